import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { CapturedBuild } from '../capture/capture.js';
import { codegenOption, isCodegenUnitObject, type RustcRecord, rlibFileName } from '../capture/capture-record.js';
import { affectedCrates, type CrateUnit } from '../capture/crate-graph.js';
import { readDepInfo } from '../capture/dep-info.js';
import { compileRound } from '../compile/compile-round.js';
import { CompiledSources } from '../compile/compiled-sources.js';
import { CompileError, type CompiledCrate } from '../compile/recompile.js';
import type { ThreadStack } from '../deliver/protocol.js';
import { type Diff, diffObjects, prepareDiff } from '../diff/compare.js';
import { demangleWithoutHash } from '../diff/demangle/index.js';
import type { ElfImage } from '../object/elf/image.js';
import type { ObjectFile } from '../object/model.js';
import { archiveMemberName, readObjectFilesReusing, readObjectPath, readObjects } from '../object/read.js';
import { linkPatch, warmPatchLinker } from '../patch/link.js';
import { LibraryIndex } from '../patch/library-index.js';
import { LiveSymbols, type PatchSymbol } from '../patch/live-symbols.js';
import { buildPatchObject, loadedSizeOf } from '../patch/patch-object.js';
import { planPatch } from '../patch/plan.js';
import { judgeActiveFrames } from '../judge/active-frames.js';
import { farJumpsWithoutRoom, judgeEntryRoom } from '../judge/entry-room.js';
import { judgeMergedFunctions } from '../judge/merged-functions.js';
import { judgeEdit } from '../judge/judge-edit.js';
import { vtablesOf } from '../judge/vtables.js';
import { layoutReason } from '../judge/type-layouts.js';
import { fullText, type Reason, restartReasons, type Verdict } from '../judge/verdict.js';
import { UserError } from '../errors/user-error.js';
import type { Target } from '../targets/target.js';
import type { ProcessState } from './process-state.js';
import type { Reporter } from './reporter.js';
import { listed } from './listing.js';
import { awaitRunningCalls } from './running-calls.js';

/** A patch as built once, to be linked for each process (each has its own addresses). */
export interface BuiltPatch {
  readonly id: number;
  readonly objectPath: string;
  /** What the patch's sections take once loaded, zero-filled data included: the address range it needs. */
  readonly loadedSize: number;
  readonly bindingNames: string[];
  readonly redirected: string[];
  /** Names the patch takes over from the process's originals (renumbered closures). */
  readonly retired?: readonly string[];
  /** What the patch changed, demangled, new functions marked `+`: for crash reports. */
  readonly summary: string[];
  /** Types whose layout changed: the app must migrate them (`ipbp::migrate`). */
  readonly migrations: string[];
  /** Why those types need a migration, for the restart when a process has none. */
  readonly layoutReasons: Reason[];
}

/** What applying a patch to one process took, and where its threads were meanwhile. */
interface Delivery {
  readonly linkMs: number;
  readonly loadMs: number;
  /** The call stacks of the process's threads while the jumps were written (none when nothing was redirected). */
  readonly activeStacks: readonly ThreadStack[];
  /** Where the patch put each function it defines in this process. */
  readonly newCode: ReadonlyMap<string, PatchSymbol>;
}

/** The newest patch sent to a process, and whether it said the patch is live. */
export interface DeliveredPatch {
  readonly id: number;
  readonly summary: readonly string[];
  readonly confirmed: boolean;
}

/** Why an edit needs a restart rather than a patch: each reason a short line, with its details. */
export class UnpatchableChange extends Error {
  override readonly name = 'UnpatchableChange';
  readonly reasons: Reason[];
  constructor(reasons: ReadonlyArray<Reason | string>) {
    const structured = reasons.map((reason) => (typeof reason === 'string' ? { reason } : reason));
    super(structured.map((reason) => reason.reason).join('; '));
    this.reasons = structured;
  }
}

/** The `ipbp` crate's hook table; present only in apps that use the crate. */
const APP_HOOK_TABLE = 'IPBP_HOOK_TABLE_V1';

/**
 * The dev loop's heart: an edit goes in, the running processes come out
 * patched. Owns the baseline objects (what each process runs now) and the
 * history of patches for processes that connect late.
 */
export class Patcher {
  private readonly baselines = new Map<string, ObjectFile[]>();
  /** Crates compiled since their last adopted build. */
  private readonly unadopted = new Set<string>();
  private readonly sources = new Map<string, Set<string>>();
  /** What the libraries' sources held when the running code was compiled from them. */
  private readonly compiledSources = new CompiledSources();
  private readonly history: BuiltPatch[] = [];
  private readonly reference: LiveSymbols;
  private readonly libraries: LibraryIndex;
  readonly processes = new Set<ProcessState>();
  /** By pid; kept after the process is gone, which is when a crash report needs it. */
  private readonly delivered = new Map<number, DeliveredPatch>();
  private nextId = 1;
  /** Awaited before a patch goes to a process, so that session.json names it even if ipbp dies while the process loads it. */
  beforeDelivery: ((patch: BuiltPatch) => Promise<void>) | undefined;
  /** Whether the program's crates are built with optimizations, which merge identical functions (a proc macro's build is its own). */
  private readonly optimized: boolean;
  /** Whether `prepare` ran. */
  private prepared = false;
  /** Warnings already shown this session (one per cause is enough). */
  private readonly warned = new Set<string>();

  constructor(
    private readonly build: CapturedBuild,
    private readonly units: CrateUnit[],
    private readonly image: ElfImage,
    private readonly target: Target,
    private readonly sessionDir: string,
    private readonly reporter: Reporter,
  ) {
    this.reference = new LiveSymbols(image, 0n);
    this.optimized = units.some((unit) => !unit.isProcMacro && (codegenOption(unit.record.args, 'opt-level') ?? '0') !== '0');
    this.libraries = new LibraryIndex(build.link.args.filter((arg) => arg.endsWith('.rlib') || arg.endsWith('.a')).map((arg) => resolve(build.link.cwd, arg)));
  }

  /** Read what the running binary was built from, before any edit. */
  async loadBaselines(): Promise<void> {
    await mkdir(join(this.sessionDir, 'baseline'), { recursive: true });
    // Cargo may rebuild a library later; the copy stays what the process runs.
    for (const unit of this.units) if (!unit.isBinary && !unit.isProcMacro) await copyFile(join(unit.outDir, rlibFileName(unit.stem)), this.baselineRlib(unit));
    await this.restoreBaselines();
    for (const unit of this.units) if (!unit.isBinary && !unit.isProcMacro) await this.compiledSources.rememberBuilt(this.sources.get(unit.key) ?? [], unit.depInfoPath);
  }

  /**
   * The one-time work of a first patch, done before the first edit (the
   * session calls it once the app runs): the diff's view of the running
   * code and the linker's first start. Each part yields to the event loop.
   */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    this.prepared = true;
    for (const objects of this.baselines.values()) {
      await new Promise((resolve) => setImmediate(resolve));
      vtablesOf(prepareDiff(objects), this.target.pointerBytes);
    }
    await warmPatchLinker(this.target).catch(() => {});
  }

  /**
   * Take cargo's new invocations of crates (after a build script reran):
   * from now on they are recompiled with the script's new environment.
   * Returns the keys of the program's crates among them; a crate whose
   * command line changed (a new `--cfg`, a library to link) cannot be
   * patched, and is named in `reasons`.
   */
  takeRecords(records: readonly RustcRecord[]): { keys: string[]; reasons: Reason[] } {
    const keys: string[] = [];
    const reasons: Reason[] = [];
    for (const record of records) {
      const index = this.units.findIndex((unit) => unit.name === record.crateName && unit.isBinary === record.crateTypes.includes('bin'));
      const unit = this.units[index];
      if (!unit) continue;
      const added = record.args.filter((arg) => !unit.record.args.includes(arg));
      const removed = unit.record.args.filter((arg) => !record.args.includes(arg));
      if (added.length > 0 || removed.length > 0) {
        const change = [...added.map((arg) => `+${arg}`), ...removed.map((arg) => `-${arg}`)].join(' ');
        reasons.push({ reason: `a build script's new output changes how \`${unit.name}\` is compiled`, details: `its rustc arguments changed: ${change}` });
        continue;
      }
      const captured = this.build.crates.indexOf(unit.record);
      if (captured >= 0) this.build.crates[captured] = record;
      this.units[index] = { ...unit, record };
      keys.push(unit.key);
    }
    return { keys, reasons };
  }

  /** Every source file of the program's workspace crates. */
  watchedFiles(): string[] {
    const files = new Set<string>();
    for (const set of this.sources.values()) for (const file of set) files.add(file);
    return [...files];
  }

  /**
   * Compile, diff, assemble and deliver one edit. Returns false when nothing
   * was patched. `quit`: the session is ending; a round it cuts short
   * reports nothing (no patch is live in apps that are gone).
   */
  async applyEdit(files: readonly string[], startedAt: number, quit?: AbortSignal, alsoRecompile: readonly string[] = []): Promise<boolean> {
    const changedKeys = new Set(this.units.filter((unit) => files.some((file) => this.sources.get(unit.key)?.has(file))).map((unit) => unit.key));
    for (const key of alsoRecompile) changedKeys.add(key);
    // A crate rebuilt in a round that failed later (a dependent's compile
    // error, an unpatchable change) holds code no process runs: build it again.
    for (const key of this.unadopted) changedKeys.add(key);
    const readAt = Date.now();
    const snapshot = await this.compiledSources.read(files);
    const changingDependents = new Set([...changedKeys].filter((key) => this.mayChangeDependents(key, files, snapshot, alsoRecompile)));
    const affected = affectedCrates(this.units, changedKeys, changingDependents);
    if (affected.length === 0) return false;
    const id = this.nextId;
    const compileStart = performance.now();
    const compiled = await this.compile(affected);
    const compileMs = performance.now() - compileStart;
    if (quit?.aborted) return false;

    const diffStart = performance.now();
    const diffs: Array<{ unit: CrateUnit; diff: Diff; objects: ObjectFile[] }> = [];
    for (const crate of compiled) {
      // A proc macro's code runs in the compiler only: what changed is in its dependents' expansions, diffed with them.
      if (crate.unit.isProcMacro) continue;
      const baseline = this.baselines.get(crate.unit.key) ?? [];
      const objects = await readObjectFilesReusing(crate.objects, baseline);
      diffs.push({ unit: crate.unit, diff: diffObjects(baseline, objects), objects });
    }
    let diffMs = performance.now() - diffStart;
    const nothingChanged = diffs.every(({ diff }) => diff.changedAtoms.length === 0 && diff.addedAtoms.length === 0);
    if (nothingChanged) {
      this.adopt(diffs, compiled);
      await this.compiledSources.adopt(snapshot, readAt);
      this.reporter.info(`no code changed in ${listed(files.map((file) => basename(file)))} (compile ${ms(compileMs)})`);
      this.reporter.emit({ event: 'no-change', files: [...files] });
      return false;
    }

    // Judged before planning: these need a restart whatever else the edit changed.
    const judgeStart = performance.now();
    const judgement = judgeEdit(
      diffs.map(({ unit, diff, objects }) => ({ crate: unit.name, diff, before: this.baselines.get(unit.key) ?? [], after: objects })),
      { usesIpbp: this.image.symbols.has(APP_HOOK_TABLE), isMutable: (name) => this.reference.isMutable(name) },
      this.target,
    );
    diffMs += performance.now() - judgeStart;
    const notes = this.heed(judgement.verdicts);
    const migrations = judgement.migrations;

    const linkStart = performance.now();
    const plan = planPatch(
      diffs.map(({ diff }) => diff),
      this.reference,
      this.libraries,
    );
    const tooShort = judgeEntryRoom(plan.redirected, (name) => this.reference.originalOf(name)?.room, this.target);
    const merged = judgeMergedFunctions(
      plan.redirected,
      diffs.map(({ diff }) => diff),
      (name) => this.reference.functionsSharingCodeWith(name),
      this.optimized,
    );
    const unpatchable = [...plan.unpatchable, ...restartReasons([...tooShort, ...merged])];
    if (unpatchable.length > 0) throw new UnpatchableChange(this.userCodeFirst(unpatchable.map((reason) => (typeof reason === 'string' ? { reason } : reason))));
    const objectBytes = buildPatchObject(plan, this.target);
    const objectPath = join(this.sessionDir, `patch-${id}.o`);
    await writeFile(objectPath, objectBytes);
    const summary = [...plan.changed.map(demangleWithoutHash), ...plan.added.map((name) => `+${demangleWithoutHash(name)}`)];
    const built: BuiltPatch = {
      id,
      objectPath,
      loadedSize: loadedSizeOf(plan),
      bindingNames: [...plan.bindings.keys()],
      redirected: plan.redirected,
      retired: plan.retired,
      summary,
      migrations: migrations.map((change) => change.type),
      layoutReasons: migrations.map((change) => layoutReason(change, true)),
    };
    this.nextId++;
    const prepareMs = performance.now() - linkStart;

    let linkMs = prepareMs;
    let loadMs = 0;
    const pids: number[] = [];
    // What the patch replaced, for the calls of it that were running when it came.
    const replaced = new Set(plan.redirected.filter((name) => !plan.moved.includes(name)));
    const running: Verdict[] = [];
    for (const state of this.processes) {
      const timing = await this.deliver(state, built);
      linkMs += timing.linkMs;
      loadMs += timing.loadMs;
      pids.push(state.pid);
      const verdicts = judgeActiveFrames(state.pid, replaced, timing.activeStacks, (address) => state.live.functionAt(address), this.optimized);
      running.push(...verdicts);
      if (restartReasons(verdicts).length > 0) continue;
      // Code from before the patch: a changed function's, outside its new copy.
      const isOldCode = (address: bigint, name: string): boolean => {
        const copy = timing.newCode.get(name);
        return replaced.has(name) && !(copy && address >= copy.address && address < copy.address + BigInt(copy.size));
      };
      running.push(...(await awaitRunningCalls(state.connection, timing.activeStacks, (address) => state.live.functionAt(address), isOldCode)));
    }
    this.history.push(built);
    this.adopt(diffs, compiled);
    await this.compiledSources.adopt(snapshot, readAt);
    for (const crate of compiled) await this.refreshSources(crate);
    const neverRun = restartReasons(running);
    if (neverRun.length > 0) {
      this.reporter.info(`patch ${id} is loaded (${listed(summary)}), but not all of it can take effect`);
      throw new UnpatchableChange(this.userCodeFirst(neverRun));
    }
    notes.push(...this.heed(running));
    if (quit?.aborted) return false;

    const changed = plan.changed.map(demangleWithoutHash);
    const added = plan.added.map(demangleWithoutHash);
    const moved = plan.moved.map(demangleWithoutHash);
    const total = performance.now() - startedAt;
    const migrated = built.migrations.length > 0 ? `, migrated ${built.migrations.map((type) => `\`${type}\``).join(', ')}` : '';
    this.reporter.info(
      `patch ${id}: ${changed.length} changed, ${added.length} added (${listed(summary)})${migrated} live in ${ms(total)} ` +
        `[compile ${ms(compileMs)}, diff ${ms(diffMs)}, link ${ms(linkMs)}, load ${ms(loadMs)}]` +
        (pids.length > 0 ? ` pid ${pids.join(', ')}` : ' (no process connected; it will get the patch when it connects)'),
    );
    this.reporter.detail(`  rustc: ${compiled.map((crate) => `${crate.unit.name} ${ms(crate.milliseconds)}`).join(', ')}`);
    for (const [what, names] of [
      ['changed', changed],
      ['added', added],
      ['moved', moved],
    ] as const) {
      if (names.length > 0) this.reporter.detail(`  ${what}: ${names.join(', ')}`);
    }
    this.reporter.emit({
      event: 'patched',
      patch: id,
      files: [...files],
      changed,
      added,
      migrated: built.migrations,
      moved,
      notes,
      ms: { compile: round(compileMs), diff: round(diffMs), link: round(linkMs), load: round(loadMs), total: round(total) },
      // rustc's wall time per crate, in build order: which crate an edit's compile time goes to.
      compiled: compiled.map((crate) => ({ crate: crate.unit.name, ms: round(crate.milliseconds) })),
      pids,
    });
    return true;
  }

  /** Bring a process that connected late up to date with every earlier patch. */
  async catchUp(state: ProcessState): Promise<void> {
    for (const patch of this.history) {
      if (!state.appliedPatches.has(patch.id)) await this.deliver(state, patch);
    }
  }

  /** The newest patch sent to process `pid`, if any. */
  lastPatchOf(pid: number): DeliveredPatch | undefined {
    return this.delivered.get(pid);
  }

  /** The patches every connected process got, oldest first: session.json keeps them for a session that adopts the processes. */
  get patchHistory(): readonly BuiltPatch[] {
    return this.history;
  }

  /**
   * An adopting session continues the history of the session that launched
   * the processes: a process lacking one of those patches gets it, and new
   * ids follow every id used before (a reused id would name a library the
   * process already loaded, and dlopen would hand back the old one).
   */
  resumeHistory(history: readonly BuiltPatch[], lastUsedId: number): void {
    this.history.push(...history);
    this.nextId = Math.max(this.nextId, lastUsedId + 1);
  }

  /** A patch an earlier session loaded into an adopted process (seen in its memory map): its code is part of what the process runs. */
  adoptLoadedPatch(state: ProcessState, patch: BuiltPatch, symbols: Parameters<LiveSymbols['addPatch']>[0]): void {
    for (const live of [state.live, this.reference]) {
      live.retire(patch.retired ?? []);
      live.addPatch(symbols);
    }
    state.appliedPatches.add(patch.id);
    this.delivered.set(state.pid, { id: patch.id, summary: patch.summary, confirmed: true });
  }

  /**
   * The baselines from the copies `loadBaselines` made: also for a
   * generation an adopting session reloads, since cargo may have rebuilt the
   * originals since.
   */
  async restoreBaselines(): Promise<void> {
    for (const unit of this.units) {
      if (unit.isBinary) {
        const prefix = `${unit.stem}.`;
        const copies = this.build.link.objects.filter((object) => basename(object.original).startsWith(prefix));
        const objects: ObjectFile[] = [];
        for (const copy of copies) objects.push(...readObjects(copy.original, await readFile(copy.copy)));
        this.baselines.set(unit.key, objects);
      } else if (!unit.isProcMacro) {
        // (A proc macro has no baseline: nothing of it is in the program.)
        // Its codegen units, as a recompile gives them: native code a build script bundled into the rlib is not the crate's to patch.
        const members = await readObjectPath(this.baselineRlib(unit));
        this.baselines.set(unit.key, members.filter((object) => isCodegenUnitObject(unit.stem, archiveMemberName(object.path))));
      }
      this.sources.set(unit.key, new Set((await readDepInfo(unit.depInfoPath)).map((file) => resolve(unit.record.cwd, file))));
    }
  }

  private baselineRlib(unit: CrateUnit): string {
    return join(this.sessionDir, 'baseline', rlibFileName(unit.stem));
  }

  /**
   * Whether the crate keyed `key` is rebuilt in a way that may change what
   * the crates depending on it compile. Not when the edit only changed
   * bodies of plain functions in its files (`dependentsMayChange`), and
   * rustc inlines nothing across crates on its own (an incremental build):
   * then their object code would come out the same, and they are not
   * recompiled.
   */
  private mayChangeDependents(key: string, files: readonly string[], snapshot: ReadonlyMap<string, string>, alsoRecompile: readonly string[]): boolean {
    const unit = this.units.find((candidate) => candidate.key === key);
    if (!unit || unit.isProcMacro || alsoRecompile.includes(key) || this.unadopted.has(key) || codegenOption(unit.record.args, 'incremental') === undefined) return true;
    const own = files.filter((file) => this.sources.get(key)?.has(file));
    return own.length === 0 || this.compiledSources.interfaceChange(own, snapshot) !== undefined;
  }

  /** Applies one patch, remembering it first: a patch that crashes the process may never be acknowledged. */
  private async deliver(state: ProcessState, patch: BuiltPatch): Promise<Delivery> {
    const previous = this.delivered.get(state.pid);
    await this.beforeDelivery?.(patch);
    this.delivered.set(state.pid, { id: patch.id, summary: patch.summary, confirmed: false });
    let timing: Delivery;
    try {
      timing = await this.applyTo(state, patch);
    } catch (error) {
      // Refused or never sent, and the process lives on: it still runs the previous patch.
      if (!state.connection.isClosed) {
        if (previous) this.delivered.set(state.pid, previous);
        else this.delivered.delete(state.pid);
      }
      throw error;
    }
    this.delivered.set(state.pid, { id: patch.id, summary: patch.summary, confirmed: true });
    return timing;
  }

  /** What this round built is now what the processes run. */
  private adopt(diffs: ReadonlyArray<{ unit: CrateUnit; objects: ObjectFile[] }>, compiled: readonly CompiledCrate[]): void {
    for (const { unit, objects } of diffs) this.baselines.set(unit.key, objects);
    for (const crate of compiled) this.unadopted.delete(crate.unit.key);
  }

  private async compile(affected: readonly CrateUnit[]): Promise<CompiledCrate[]> {
    for (const unit of affected) this.unadopted.add(unit.key);
    const objectsOf = (unit: CrateUnit): string => join(this.sessionDir, 'objects', unit.key.replace(':', '-'));
    return compileRound(affected, objectsOf).catch((error: unknown) => {
      // What the running program was built against is gone: only a fresh build can bring it back.
      if (error instanceof UserError && error.code === 'build-files-missing') throw new UnpatchableChange([{ reason: error.message, details: `${error.causes.join(', ')}; a fresh build makes them again` }]);
      throw error;
    });
  }

  /** Restarts end the round; the notes are returned for the patch's report, and shown once a session each. */
  private heed(verdicts: readonly Verdict[]): string[] {
    const reasons = restartReasons(verdicts);
    const notes = [...new Set(verdicts.filter((verdict) => verdict.action === 'note').map(fullText))];
    for (const message of notes) this.warnOnce(message);
    if (reasons.length > 0) throw new UnpatchableChange(this.userCodeFirst(reasons));
    return notes;
  }

  /**
   * The reasons that name the user's own code first: the one line a restart
   * shows should be about what they edited (`bevy_app::report`), not about a
   * library's instantiation that changed with it.
   */
  private userCodeFirst(reasons: readonly Reason[]): Reason[] {
    const own = (reason: Reason): boolean => this.units.some((unit) => reason.reason.includes(`\`${unit.name}::`));
    return [...reasons.filter(own), ...reasons.filter((reason) => !own(reason))];
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.reporter.warn(message);
  }

  private async refreshSources(crate: CompiledCrate): Promise<void> {
    try {
      const files = await readDepInfo(crate.unit.depInfoPath);
      this.sources.set(crate.unit.key, new Set(files.map((file) => resolve(crate.unit.record.cwd, file))));
    } catch {
      // Keep the previous list; the next successful build refreshes it.
    }
  }

  /** Links and loads `patch` into one process; `activeStacks`: where its other threads were while the jumps were written (the agent's report, undecided here). */
  private async applyTo(state: ProcessState, patch: BuiltPatch): Promise<Delivery> {
    const linkStart = performance.now();
    const bindings = new Map<string, bigint>();
    for (const name of patch.bindingNames) {
      const symbol = state.live.lookup(name);
      if (!symbol) throw new Error(`process ${state.pid} lacks ${name}`);
      bindings.set(name, symbol.address);
    }
    const base = state.reserve(patch.loadedSize);
    const linked = await linkPatch(this.target, patch.objectPath, join(this.sessionDir, `patch-${patch.id}-${state.pid}.so`), base, bindings);
    const redirects = patch.redirected.flatMap((name) => {
      const to = linked.symbols.get(name)?.address;
      return to === undefined ? [] : state.live.entriesOf(name).map((from) => ({ name, from, to }));
    });
    const tooShort = farJumpsWithoutRoom(redirects, (name) => state.live.lookup(name)?.room, this.target);
    if (tooShort.length > 0) throw new UnpatchableChange(tooShort);
    const linkMs = performance.now() - linkStart;
    const loadStart = performance.now();
    const result = await state.connection.loadPatch({
      patchId: patch.id,
      buildId: Buffer.from(this.image.buildId, 'hex'),
      path: linked.path,
      base,
      redirects: redirects.map(({ from, to }) => ({ from, to })),
      hooks: state.live.originalOf(APP_HOOK_TABLE)?.address ?? 0n,
      migrations: patch.migrations,
      tlsFixups: linked.tlsFixups,
    });
    const loadMs = performance.now() - loadStart;
    if (result.needsRestart && result.message.startsWith('static TLS')) {
      throw new UnpatchableChange([{ reason: `process ${state.pid} has no static TLS left for the thread-locals patch ${patch.id} adds`, details: result.message }]);
    }
    if (result.needsRestart) throw new UnpatchableChange([...patch.layoutReasons, { reason: `process ${state.pid} cannot migrate the changed types`, details: result.message }]);
    if (!result.ok) throw new Error(`process ${state.pid} refused patch ${patch.id}: ${result.message}`);
    state.live.retire(patch.retired ?? []);
    state.live.addPatch(linked.symbols);
    if (this.history.length === 0 || !this.history.includes(patch)) {
      this.reference.retire(patch.retired ?? []);
      this.reference.addPatch(linked.symbols);
    }
    state.appliedPatches.add(patch.id);
    return { linkMs, loadMs, activeStacks: result.stacks, newCode: linked.symbols };
  }
}

export { CompileError };

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
