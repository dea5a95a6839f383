/**
 * The transport fuzzer's long run: a real `ipbp run --listen` on a copy of
 * examples/ticker, then 10⁵ fuzzed connections (see transport.ts) against
 * its Unix socket and its TCP port, then one edit that must be patched into
 * the same process. Prints the figures; exits 1 if ipbp died, reported an
 * escaped error, lost its app or failed the edit.
 *
 *   npx tsc -p fuzz/tsconfig.json && node dist/fuzz/transport-long.js [--connections 100000] [--seed N] [--concurrency 32]
 */
import { parseArgs } from 'node:util';
import { LAST_RESORT_MARK } from '../src/cli/last-resort.js';
import { IpbpRun } from '../test/support/ipbp-run.js';
import { fuzzTransport } from './transport.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '100000' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    concurrency: { type: 'string', default: '32' },
  },
});
const connections = Number(values.connections);
const seed = Number(values.seed);

const session = await IpbpRun.start('ticker', ['--listen', '127.0.0.1:0']);
let failed = false;
try {
  const pid = await session.untilRunning(/^hello from tick \d+$/);
  const [, port] = await session.waitForStderr(/listening on tcp 127\.0\.0\.1:(\d+);/);
  const socket = String((await session.waitForEvent((event) => event.event === 'session')).socket);
  console.log(`ipbp pid ${session.child.pid}, app pid ${pid}; ${connections} connections, seed ${seed}`);
  const result = await fuzzTransport(
    [
      { label: 'unix socket', path: socket },
      { label: 'tcp', host: '127.0.0.1', port: Number(port) },
    ],
    {
      connections,
      seed,
      concurrency: Number(values.concurrency),
      progressEvery: 10_000,
      onProgress: (done) => console.log(`  ${done} connections, ipbp ${session.exited ? 'DEAD' : 'alive'}`),
    },
  );
  console.log(`${result.connections} connections in ${(result.milliseconds / 1000).toFixed(1)} s`);
  for (const [step, count] of Object.entries(result.steps).sort()) console.log(`  ${step.padEnd(20)} ${count}`);
  const from = session.stdout.length;
  await session.edit('src/main.rs', 'format!("hello from tick {tick}")', 'format!("after the fuzz at tick {tick}")');
  const patched = await session.waitForEvent((event) => event.event === 'patched');
  await session.waitForLine(/^after the fuzz at tick \d+$/, from);
  const samePid = JSON.stringify(patched.pids) === JSON.stringify([pid]);
  const escaped = session.stderr.includes(LAST_RESORT_MARK);
  const refusals = session.stderr.split('\n').filter((line) => line.includes('refused a client (')).length;
  console.log(`after the fuzz: ipbp ${session.exited ? 'exited' : 'running'}, patched pid ${String(patched.pids)} (${samePid ? 'the same app' : 'NOT the same app'}), escaped errors: ${escaped ? 'YES' : 'none'}, refusal lines: ${refusals}`);
  failed = session.exited || !samePid || escaped;
} catch (error) {
  console.log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  failed = true;
} finally {
  await session.remove().catch((error: unknown) => {
    console.log(String(error));
    failed = true;
  });
}
console.log(failed ? 'crashes or failures: 1' : 'crashes: 0');
process.exitCode = failed ? 1 : 0;
