import { Agent, get } from 'node:http';
import { sleep } from './stats.js';

/** One keep-alive connection, so a probe costs a request, not a TCP handshake. */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export const PROBE_INTERVAL_MS = 5;

/** GET a loopback URL; the body, or undefined while nothing answers. */
export function fetchBody(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = get(url, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
      response.on('error', () => resolve(undefined));
    });
    request.on('error', () => resolve(undefined));
  });
}

/**
 * Requests `url` every PROBE_INTERVAL_MS until the body matches; returns
 * performance.now() when the matching response arrived.
 */
export async function probeUntil(url: string, pattern: RegExp, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last: string | undefined;
  while (performance.now() < deadline) {
    last = await fetchBody(url);
    if (last !== undefined && pattern.test(last)) return performance.now();
    await sleep(PROBE_INTERVAL_MS);
  }
  throw new Error(`timed out after ${timeoutMs} ms: GET ${url} never matched ${pattern}; last body: ${last ?? '(no answer)'}`);
}

export function closeProbes(): void {
  agent.destroy();
}
