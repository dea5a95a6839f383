import type { DiffThroughput } from './measure-diff.js';
import type { Spread } from './support/stats.js';
import { type AppSummary, mb, ms, type TargetCheck } from './summary.js';

/** The corpus figures of bench/diff-throughput.ts, from its own JSON file. */
export interface CorpusThroughput {
  readonly mbPerS: number;
  readonly bytesPerSide: number;
  readonly targetMbPerS: number;
}

export interface Report {
  readonly machine: string;
  readonly apps: readonly AppSummary[];
  readonly mediumDiff: DiffThroughput | undefined;
  readonly corpusDiff: CorpusThroughput | undefined;
  readonly targets: readonly TargetCheck[];
}

/** `median [min–max]`, in whole milliseconds. */
function range(value: Spread): string {
  if (value.n === 0) return 'n/a';
  return `${Math.round(value.median)} [${Math.round(value.min)}–${Math.round(value.max)}]`;
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function renderReport(report: Report): string {
  const { apps } = report;
  const out: string[] = [`ipbp benchmark: ${report.machine}`, ''];

  out.push('Edit → new behaviour, seen by the benchmark (ms, median [min–max]; ipbp: warm patches, the first shown apart)');
  out.push(
    table(
      ['app', 'ipbp', 'n', 'first', 'cargo build + restart', 'n', 'cargo build', 'restart', 'speed-up'],
      apps.map((app) => [
        app.app,
        range(app.ipbp.editToBehaviourMs),
        String(app.ipbp.editToBehaviourMs.n),
        ms(app.ipbp.coldMs),
        range(app.cargo.editToBehaviourMs),
        String(app.cargo.editToBehaviourMs.n),
        range(app.cargo.buildMs),
        range(app.cargo.restartMs),
        `${app.speedUp.toFixed(1)}×`,
      ]),
    ),
  );
  const published = apps.filter((app) => app.source === 'crates.io');
  for (const app of published) out.push(`  ${app.app}: ${app.description}`);
  out.push('');

  out.push("ipbp's stages from its events (ms, median [min–max]); overhead = total − compile");
  out.push(
    table(
      ['app', 'compile (rustc)', 'diff', 'link', 'load+ack', 'other', 'total', 'overhead', 'beyond rustc', 'outside total'],
      apps.map((app) => {
        const s = app.ipbp.stages;
        return [app.app, range(s.compile), range(s.diff), range(s.link), range(s.load), range(s.other), range(s.total), range(app.ipbp.overheadMs), range(app.ipbp.beyondRustcMs), range(app.ipbp.outsideTotalMs)];
      }),
    ),
  );
  out.push(
    '  other: file event → compile start (incl. the file watcher debounce) + bookkeeping after the ack; load+ack: socket delivery, dlopen, redirect and',
    '  acknowledgement in one round trip (the events do not split them); beyond rustc: edit → behaviour − compile; outside total: file-event',
    '  latency + wait for the next 2 ms tick or 5 ms HTTP probe (negative when the app shows the change before ipbp ends its bookkeeping).',
    '',
  );

  out.push('Memory and disk (RSS from /proc/<pid>/status; patches: the .so files in the session directory; target/ipbp: bytes of `<target>/ipbp` after the session)');
  const checkpoints = [...new Set(apps.flatMap((app) => app.memory.points.map((point) => point.patches)))].sort((a, b) => a - b);
  out.push(
    table(
      ['app', 'plain RSS', 'ipbp RSS before', ...checkpoints.map((n) => `after ${n}: RSS (+growth / patches)`), 'disk: .so files', 'session dir', 'target/ipbp'],
      apps.map((app) => [
        app.app,
        mb(app.memory.plainRssBytes),
        mb(app.memory.rssBeforeBytes),
        ...checkpoints.map((n) => {
          const point = app.memory.points.find((candidate) => candidate.patches === n);
          return point ? `${mb(point.rssBytes)} (+${mb(point.growthBytes)} / ${mb(point.patchLibraryBytes)})` : 'n/a';
        }),
        `${mb(app.memory.disk.patchLibraryBytes)} in ${app.memory.disk.patchLibraries}`,
        mb(app.memory.disk.sessionDirectoryBytes),
        mb(app.memory.disk.targetIpbpBytes),
      ]),
    ),
  );
  // The figure is the whole directory: ipbp's build of the program and its dependencies, the plain builds that share it, session records.
  if (published.length > 0) out.push('  target/ipbp of the crates.io apps: the corpus target directory, shared by every corpus project and these apps');
  out.push('');

  const costs = apps.filter((app) => app.callCost);
  if (costs.length > 0) {
    out.push('Call cost (ns per call in a debug loop of 2M calls, fastest of 7 rounds × 3 requests)');
    out.push(
      table(
        ['app', 'plain process', 'ipbp, nothing patched yet', 'ipbp: unpatched fn', 'ipbp: patched fn'],
        costs.map((app) => {
          const cost = app.callCost!;
          return [app.app, cost.plain.unpatchedNs.toFixed(2), cost.underIpbpBeforePatch.unpatchedNs.toFixed(2), cost.underIpbpAfterPatch.unpatchedNs.toFixed(2), cost.underIpbpAfterPatch.patchedNs.toFixed(2)];
        }),
      ),
    );
    out.push('');
  }

  out.push('Diff throughput (read + parse + diff of both sides; MB of one side)');
  if (report.mediumDiff) {
    const diff = report.mediumDiff;
    out.push(
      `  medium app, ${diff.rlibsPerSide} rlibs (${mb(diff.bytesPerSide)}), before vs after its edits: ${diff.mbPerS.median.toFixed(1)} MB/s ` +
        `[${diff.mbPerS.min.toFixed(1)}–${diff.mbPerS.max.toFixed(1)}], ${range(diff.ms)} ms, cold ${ms(diff.coldMs)}`,
    );
  }
  if (report.corpusDiff) {
    const corpus = report.corpusDiff;
    out.push(`  bench/diff-throughput.ts corpus (${mb(corpus.bytesPerSide)}): ${corpus.mbPerS.toFixed(1)} MB/s median (its target ${corpus.targetMbPerS} MB/s)`);
  }
  out.push('');

  out.push('Targets of issue 5');
  for (const check of report.targets) out.push(`  ${check.met ? 'MET   ' : 'MISSED'} ${check.target}: ${check.measured}`);
  return out.join('\n');
}
