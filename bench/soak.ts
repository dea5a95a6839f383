/**
 * The soak: a thousand successive patches to one running app (a copy of
 * examples/ticker), with ipbp's memory and open files, the app's memory and
 * the patches' own size read every 50 patches, and the edit → new
 * behaviour time of the first and the last hundred compared. Prints the
 * curves' figures; it only measures.
 *
 *   npm run build && node dist/bench/soak.js [--patches 1000]
 */
import { parseArgs } from 'node:util';
import { IpbpRun } from '../test/support/ipbp-run.js';
import { measured, soak } from './support/soak.js';
import { spread } from './support/stats.js';

const { values } = parseArgs({ options: { patches: { type: 'string', default: '1000' } } });
const patches = Number(values.patches);
const megabytes = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

const session = await IpbpRun.start('ticker');
try {
  const pid = await session.untilRunning(/^hello from tick \d+$/);
  console.log(`${patches} patches to pid ${pid}`);
  console.log('patch  ms    ipbp RSS MB  ipbp fds  app RSS MB  patches on disk MB  ipbp stages (ms)');
  const samples = await soak(session, pid, patches, 50, (sample) =>
    console.log(
      `${String(sample.patch).padStart(5)}  ${sample.milliseconds.toFixed(0).padStart(4)}  ${megabytes(sample.cliResidentBytes).padStart(11)}  ${String(sample.cliOpenFiles).padStart(8)}  ${megabytes(sample.appResidentBytes).padStart(10)}  ${megabytes(sample.patchBytes).padStart(18)}  ${Object.entries(sample.stages).map(([stage, ms]) => `${stage} ${Math.round(ms)}`).join(', ')}`,
    ),
  );
  const window = Math.min(100, Math.floor(patches / 2));
  const first = spread(samples.slice(0, window).map((sample) => sample.milliseconds));
  const last = spread(samples.slice(-window).map((sample) => sample.milliseconds));
  const resources = measured(samples);
  const [start, end] = [resources[0]!, resources.at(-1)!];
  console.log(`edit → new line, median of the first ${window}: ${first.median.toFixed(0)} ms; of the last ${window}: ${last.median.toFixed(0)} ms (ratio ${(last.median / first.median).toFixed(2)})`);
  console.log(`ipbp: RSS ${megabytes(start.cliResidentBytes)} → ${megabytes(end.cliResidentBytes)} MB, open files ${start.cliOpenFiles} → ${end.cliOpenFiles}`);
  console.log(
    `app: RSS ${megabytes(start.appResidentBytes)} → ${megabytes(end.appResidentBytes)} MB (+${megabytes(end.appResidentBytes - start.appResidentBytes)}), patch libraries ${megabytes(end.patchBytes)} MB on disk`,
  );
} finally {
  await session.remove();
}
