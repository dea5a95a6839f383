import type { Readable } from 'node:stream';

export interface TimedLine {
  readonly line: string;
  /** performance.now() when the line reached this process. */
  readonly at: number;
}

interface Waiter {
  readonly pattern: RegExp;
  readonly resolve: (line: TimedLine) => void;
}

/**
 * The lines of a child's stdout, each stamped on arrival. Apps print a line
 * every few milliseconds for minutes, so lines are matched as they arrive
 * and only the last few are kept (for error messages).
 */
export class LineStream {
  private partial = '';
  private readonly waiters = new Set<Waiter>();
  private readonly recent: string[] = [];

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.take(chunk, performance.now()));
  }

  /** The first line matching `pattern` that arrives from now on. */
  next(pattern: RegExp, timeoutMs: number, what: string): Promise<TimedLine> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${pattern}); last lines:\n${this.lastLines()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.waiters.add(waiter);
    });
  }

  lastLines(): string {
    return this.recent.join('\n');
  }

  private take(chunk: string, at: number): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      this.recent.push(line);
      if (this.recent.length > 8) this.recent.shift();
      for (const waiter of this.waiters) {
        if (!waiter.pattern.test(line)) continue;
        this.waiters.delete(waiter);
        waiter.resolve({ line, at });
      }
    }
  }
}
