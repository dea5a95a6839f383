import type { Refusal, RefusalKind } from '../deliver/refusals.js';
import type { Reporter } from './reporter.js';

/**
 * Tells the developer about clients the channel refused: one line for the
 * first of each kind, and a count of all of them when the session ends. A
 * port scanner or a flood is worth knowing about, not worth a screenful.
 */
export class RefusalReport {
  private readonly counts = new Map<RefusalKind, number>();

  constructor(private readonly reporter: Reporter) {}

  add(refusal: Refusal): void {
    const count = (this.counts.get(refusal.kind) ?? 0) + 1;
    this.counts.set(refusal.kind, count);
    if (count > 1) return;
    this.reporter.warn(`refused a client (${refusal.kind}) on ${refusal.peer}: ${refusal.detail}; further clients refused for this reason are counted, not shown`);
    this.reporter.emit({ event: 'refused', kind: refusal.kind, peer: refusal.peer, detail: refusal.detail });
  }

  /** One line with every kind's count, if more than one client of a kind was refused. */
  summarize(): void {
    if ([...this.counts.values()].every((count) => count <= 1)) return;
    this.reporter.info(`refused clients this session: ${[...this.counts].map(([kind, count]) => `${count} ${kind}`).join(', ')}`);
  }
}
