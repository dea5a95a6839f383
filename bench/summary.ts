import type { BenchApp } from './apps.js';
import type { CargoResult } from './measure-cargo.js';
import type { IpbpResult } from './measure-ipbp.js';
import type { CallCost } from './support/call-cost.js';
import type { PatchStages } from './support/ipbp-session.js';
import { spread, type Spread } from './support/stats.js';

/** What the report says about one app, derived from the raw measurements. */
export interface AppSummary {
  readonly app: BenchApp['name'];
  /** The own example apps, or programs published on crates.io by other people. */
  readonly source: BenchApp['source'];
  readonly description: string;
  /** Edits under ipbp, after the first (cold: the session's first diff, JIT warm-up) one. */
  readonly ipbp: {
    readonly edits: number;
    readonly notPatched: number;
    readonly coldMs: number;
    readonly editToBehaviourMs: Spread;
    readonly stages: {
      /** rustc replayed for the changed crate and its dependents (ipbp's `compile`, spawn included). */
      readonly compile: Spread;
      readonly diff: Spread;
      /** Plan, patch object, rust-lld. */
      readonly link: Spread;
      /** Delivery over the socket, dlopen and redirect in the app, acknowledgement: one round trip. */
      readonly load: Spread;
      /** File event to compile start (25 ms debounce included) and bookkeeping after the acknowledgement. */
      readonly other: Spread;
      readonly total: Spread;
    };
    /** total − compile: everything ipbp adds to rustc's wall time. */
    readonly overheadMs: Spread;
    /** edit to behaviour − compile: the second target (≤ 15 ms). */
    readonly beyondRustcMs: Spread;
    /** edit to behaviour − total: the file event's latency and the wait for the next tick or probe. */
    readonly outsideTotalMs: Spread;
    readonly startMs: number;
  };
  readonly cargo: { readonly editToBehaviourMs: Spread; readonly buildMs: Spread; readonly restartMs: Spread };
  /** cargo build + restart median over ipbp's median. */
  readonly speedUp: number;
  readonly memory: {
    readonly plainRssBytes: number;
    readonly rssBeforeBytes: number;
    readonly points: ReadonlyArray<{ patches: number; rssBytes: number; growthBytes: number; patchLibraryBytes: number; growthOverPatches: number }>;
    readonly disk: IpbpResult['disk'];
  };
  readonly callCost?: { readonly plain: CallCost; readonly underIpbpBeforePatch: CallCost; readonly underIpbpAfterPatch: CallCost };
}

export function summarize(app: BenchApp, ipbp: IpbpResult, cargo: CargoResult): AppSummary {
  const warm = ipbp.edits.slice(1);
  const patched = warm.filter((edit) => edit.stages !== undefined);
  const stage = (pick: (stages: PatchStages) => number): Spread => spread(patched.map((edit) => pick(edit.stages!)));
  const ipbpMedian = spread(warm.map((edit) => edit.editToBehaviourMs));
  const cargoMedian = spread(cargo.edits.map((edit) => edit.editToBehaviourMs));
  return {
    app: app.name,
    source: app.source,
    description: app.description,
    ipbp: {
      edits: ipbp.edits.length,
      notPatched: ipbp.edits.filter((edit) => edit.outcome !== 'patched').length,
      coldMs: ipbp.edits[0]?.editToBehaviourMs ?? Number.NaN,
      editToBehaviourMs: ipbpMedian,
      stages: {
        compile: stage((s) => s.compile),
        diff: stage((s) => s.diff),
        link: stage((s) => s.link),
        load: stage((s) => s.load),
        other: stage((s) => s.total - s.compile - s.diff - s.link - s.load),
        total: stage((s) => s.total),
      },
      overheadMs: stage((s) => s.total - s.compile),
      beyondRustcMs: spread(patched.map((edit) => edit.editToBehaviourMs - edit.stages!.compile)),
      outsideTotalMs: spread(patched.map((edit) => edit.editToBehaviourMs - edit.stages!.total)),
      startMs: ipbp.startMs,
    },
    cargo: {
      editToBehaviourMs: cargoMedian,
      buildMs: spread(cargo.edits.map((edit) => edit.buildMs)),
      restartMs: spread(cargo.edits.map((edit) => edit.restartMs)),
    },
    speedUp: cargoMedian.median / ipbpMedian.median,
    memory: {
      plainRssBytes: cargo.rssBytes,
      rssBeforeBytes: ipbp.rssBeforeBytes,
      points: ipbp.memory.map((point) => {
        const growthBytes = point.rssBytes - ipbp.rssBeforeBytes;
        return { ...point, growthBytes, growthOverPatches: growthBytes / point.patchLibraryBytes };
      }),
      disk: ipbp.disk,
    },
    ...(ipbp.callCost && cargo.callCost
      ? { callCost: { plain: cargo.callCost, underIpbpBeforePatch: ipbp.callCost.beforePatch, underIpbpAfterPatch: ipbp.callCost.afterPatch } }
      : {}),
  };
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const SPEED_UP_TARGET: Readonly<Record<BenchApp['source'], number>> = { example: 2, 'crates.io': 1.5 };

/** Issue 5's targets against the figures; a miss is reported, never hidden. */
export function checkTargets(apps: readonly AppSummary[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const app of apps) {
    if (app.app !== 'server') {
      const overhead = app.ipbp.overheadMs.median;
      checks.push({ target: `${app.app}: ipbp's own overhead (total − compile) ≤ 15 ms median`, measured: `${ms(overhead)}`, met: overhead <= 15 });
    }
    const beyond = app.ipbp.beyondRustcMs.median;
    checks.push({ target: `${app.app}: edit → new behaviour within 15 ms of rustc's wall time`, measured: `+${ms(beyond)}`, met: beyond <= 15 });
    // The issue expects ≥ 2× on its own apps (more where linking or start-up is heavier), ≥ 1.5× on real-world ones.
    const speedUp = SPEED_UP_TARGET[app.source];
    checks.push({ target: `${app.app}: ≥ ${speedUp}× faster than cargo build + restart`, measured: `${app.speedUp.toFixed(1)}×`, met: app.speedUp >= speedUp });
    const last = app.memory.points[app.memory.points.length - 1];
    if (last) {
      checks.push({
        target: `${app.app}: RSS growth after ${last.patches} patches ≤ 2× the patches' size`,
        measured: `${mb(last.growthBytes)} for ${mb(last.patchLibraryBytes)} of patches (${last.growthOverPatches.toFixed(2)}×)`,
        met: last.growthOverPatches <= 2,
      });
    }
    if (app.callCost) {
      // Judged within one process: the plain binary is linked without ipbp's wrappers, and the
      // two builds' code layout alone moves the figure by up to ±10% between runs.
      const before = app.callCost.underIpbpBeforePatch.unpatchedNs;
      const after = app.callCost.underIpbpAfterPatch.unpatchedNs;
      const plain = app.callCost.plain.unpatchedNs;
      const met = after - before <= Math.max(0.05 * before, 0.1);
      checks.push({
        target: `${app.app}: no measurable call overhead for unpatched functions`,
        measured: `${after.toFixed(2)} ns after the patches vs ${before.toFixed(2)} ns before any, same process (plain build: ${plain.toFixed(2)} ns)`,
        met,
      });
    }
  }
  return checks;
}

export function ms(value: number): string {
  return Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a';
}

export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
}
