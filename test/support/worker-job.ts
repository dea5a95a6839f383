import { Worker } from 'node:worker_threads';

/**
 * Runs one job of a test module in a worker thread (the module itself, with
 * `request` as its worker data) and settles on its `{ ok, message }` answer.
 * A parse stuck in a loop cannot be interrupted on its own thread, but a
 * worker can be terminated: a job with no answer within `limitMs` fails as a
 * hang (`hang` says what hangs), and the worker's heap limit turns an
 * allocation sized by a claimed count into a failure too.
 */
export function runInWorker(module: URL, request: unknown, job: string, limitMs: number, hang: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(module, { workerData: request, resourceLimits: { maxOldGenerationSizeMb: 512 } });
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => settle(new Error(`${job}: no answer within ${limitMs} ms, ${hang}`)), limitMs);
    worker.on('message', (message: { ok: boolean; message?: string }) => settle(message.ok ? undefined : new Error(message.message)));
    worker.on('error', (error) => settle(error));
    worker.on('exit', (code) => settle(new Error(`${job}: the worker exited (code ${code}) without an answer`)));
  });
}
