import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentConnection } from '../deliver/agent-connection.js';
import { callsStillRunning, judgeCallsThatNeverReturned, type RecordedStack } from '../judge/active-frames.js';
import type { Verdict } from '../judge/verdict.js';

/** How long calls that were running when a patch came may take to return before they count as loops that never do. */
export const RETURN_WAIT_MS = 1000;
/** The first pause before sampling the process's stacks again, doubled up to the longest (each sample stops its threads for well under a millisecond). */
const FIRST_PAUSE_MS = 2;
const LONGEST_PAUSE_MS = 100;

/**
 * Watches the calls of changed functions that were under way when the patch
 * was applied (`atPatch`, the stacks the agent recorded then) until they
 * return. A request handler or a sleeping step returns within moments and
 * its next call runs the new code; a loop that does not return would keep
 * the edit from ever taking effect in it, which is a restart, not a patch
 * that says it is live. `functionAt` and `isOldCode`: as
 * `callsStillRunning` takes them. A process whose stacks cannot be sampled
 * keeps the note the patch-time check gave.
 */
export async function awaitRunningCalls(
  connection: AgentConnection,
  atPatch: readonly RecordedStack[],
  functionAt: (address: bigint) => string | undefined,
  isOldCode: (address: bigint, name: string) => boolean,
): Promise<Verdict[]> {
  let running = callsStillRunning(atPatch, functionAt, isOldCode);
  const started = performance.now();
  // Most calls return within microseconds of the patch: look again soon, then less often.
  for (let pause = FIRST_PAUSE_MS; running.size > 0; pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
    if (performance.now() - started >= RETURN_WAIT_MS) return judgeCallsThatNeverReturned(connection.pid, running, RETURN_WAIT_MS);
    await sleep(pause);
    const sample = await connection.sampleStacks();
    if (!sample.ok) return [];
    running = callsStillRunning(sample.stacks, functionAt, isOldCode);
  }
  return [];
}
