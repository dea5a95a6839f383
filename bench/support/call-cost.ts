import type { LineStream } from './line-stream.js';

/** ns per call of the small app's two identical functions, `mix_patched` and `mix_unpatched`. */
export interface CallCost {
  readonly patchedNs: number;
  readonly unpatchedNs: number;
}

const COST_LINE = /^cost patched=([\d.]+) unpatched=([\d.]+)$/;

/**
 * Asks the app (`cost` on its stdin) several times and keeps the lowest
 * figure of each function: the app already takes the fastest of 7 rounds,
 * and the lowest is the one least disturbed by other work on the machine.
 */
export async function callCost(app: { command(line: string): void; readonly output: LineStream }, samples = 3): Promise<CallCost> {
  let patchedNs = Number.POSITIVE_INFINITY;
  let unpatchedNs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < samples; i++) {
    const reply = app.output.next(COST_LINE, 60_000, 'a cost line');
    app.command('cost');
    const match = COST_LINE.exec((await reply).line)!;
    patchedNs = Math.min(patchedNs, Number(match[1]));
    unpatchedNs = Math.min(unpatchedNs, Number(match[2]));
  }
  return { patchedNs, unpatchedNs };
}
