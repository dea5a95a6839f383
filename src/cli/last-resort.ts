import { describeError, renderedError } from '../errors/describe-error.js';

/**
 * The last line of defence of a long-running session: an error that no code
 * path handled (an `'error'` event without a listener, a rejected promise
 * nobody awaited) is a bug in ipbp, but it must not end the developer's
 * session and orphan their app. It is reported, loudly and once per cause,
 * and the session goes on. The tests assert that this never fires.
 */
export const LAST_RESORT_MARK = 'ipbp: internal error (a bug in ipbp, please report it)';

export function installLastResortHandlers(): void {
  const seen = new Set<string>();
  const report = (kind: string, error: unknown): void => {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (seen.has(text)) return;
    seen.add(text);
    // Should nothing else be left to run, the process then ends saying it failed.
    process.exitCode = 1;
    process.stderr.write(`${renderedError(describeError(error), `${LAST_RESORT_MARK}: ${kind}: `)}\nipbp: the session goes on; the app keeps running\n`);
  };
  process.on('uncaughtException', (error) => report('uncaught exception', error));
  process.on('unhandledRejection', (reason) => report('unhandled rejection', reason));
}
