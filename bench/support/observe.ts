import { type ExampleApp, LISTENING, revisionPattern } from '../apps.js';
import { fetchBody, probeUntil } from './http-probe.js';
import type { LineStream } from './line-stream.js';

/** Where a started app shows its behaviour: its output, and the server's port. */
export interface Started {
  readonly port: number | undefined;
  readonly at: number;
}

/**
 * Arm this before the app can print: resolves on the app's first tick line,
 * or on the server's `listening on` line (with the port).
 */
export async function started(app: ExampleApp, output: LineStream, timeoutMs: number): Promise<Started> {
  if (app.observe === 'stdout') {
    const line = await output.next(/\[rev \d+\]/, timeoutMs, 'the first tick');
    return { port: undefined, at: line.at };
  }
  const line = await output.next(LISTENING, timeoutMs, 'the server to listen');
  return { port: Number(LISTENING.exec(line.line)![1]), at: line.at };
}

/**
 * Resolves with performance.now() when the app first shows `[rev N]`: a new
 * output line, or a `GET /hello` body. Arm it before the edit is written.
 * The returned promise never causes an unhandled rejection while the caller
 * awaits something else first.
 */
export function revisionSeen(app: ExampleApp, output: LineStream, port: number | undefined, revision: number, timeoutMs: number): Promise<number> {
  const pattern = revisionPattern(revision);
  const seen =
    app.observe === 'stdout'
      ? output.next(pattern, timeoutMs, `[rev ${revision}] in the output`).then((line) => line.at)
      : probeUntil(`http://127.0.0.1:${port}/hello`, pattern, timeoutMs);
  seen.catch(() => undefined);
  return seen;
}

const WARM_UP_REQUESTS = 200;

/**
 * A server's memory grows with its first requests (connection buffers,
 * allocator arenas of the worker threads); serve some before taking the RSS
 * that patches are compared with, so that growth is not blamed on patches.
 */
export async function warmUp(app: ExampleApp, port: number | undefined): Promise<void> {
  if (app.observe !== 'http') return;
  for (let i = 0; i < WARM_UP_REQUESTS; i++) await fetchBody(`http://127.0.0.1:${port}/hello`);
}
