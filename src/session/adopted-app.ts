import { isRunning, type ProcessIdentity } from './process-identity.js';
import { type RunningApp, terminate } from './running-app.js';

/** How often an adopted process is looked at: it is not a child, so no exit event comes. */
const POLL_MS = 200;

/**
 * A process of the program that a killed `ipbp run` launched and this
 * session adopted. It is watched by pid and start time; it is signalled by
 * pid, which is safe while that pair still names it.
 */
export class AdoptedApp implements RunningApp {
  readonly exitStatusKnown = false;
  private readonly gone: Promise<void>;

  constructor(private readonly identity: ProcessIdentity) {
    this.gone = new Promise((resolve) => {
      const timer = setInterval(() => {
        if (isRunning(identity)) return;
        clearInterval(timer);
        resolve();
      }, POLL_MS);
      // Never what keeps ipbp from exiting.
      timer.unref();
    });
  }

  get pid(): number {
    return this.identity.pid;
  }

  get startTicks(): string | undefined {
    return this.identity.startTicks;
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    void this.gone.then(() => listener(null, null));
  }

  async stop(graceMs = 2000): Promise<void> {
    await terminate((signal) => this.signal(signal), this.gone, graceMs);
  }

  private signal(signal: NodeJS.Signals): void {
    if (!isRunning(this.identity)) return;
    try {
      process.kill(this.identity.pid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}
