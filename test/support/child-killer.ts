import { once } from 'node:events';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { childrenOf, entryOf } from './process-tree.js';

interface KillerData {
  readonly flags: SharedArrayBuffer;
  readonly command: string;
  readonly parent: number;
}

/**
 * Kills every child of `parent` (ipbp) running `command` (rustc, rust-lld)
 * as soon as it shows up, until stopped: a real fault (the OOM killer, a
 * stray `kill`), not a mock. A worker thread (this same file) polls the
 * kernel's list of the parent's children without pause, which catches even
 * a link of a few milliseconds. `stop` resolves with how many it killed.
 */
export function killChildrenRunning(command: string, parent: number): { stop: () => Promise<number> } {
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const data: KillerData = { flags: flags.buffer as SharedArrayBuffer, command, parent };
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  return {
    stop: async () => {
      Atomics.store(flags, 0, 1);
      await once(worker, 'exit');
      return Atomics.load(flags, 1);
    },
  };
}

if (!isMainThread && (workerData as Partial<KillerData> | undefined)?.command !== undefined) {
  const { flags: buffer, command, parent } = workerData as KillerData;
  const flags = new Int32Array(buffer);
  while (Atomics.load(flags, 0) === 0) {
    for (const child of childrenOf(parent)) {
      if (entryOf(child)?.name !== command) continue;
      try {
        process.kill(child, 'SIGKILL');
        Atomics.add(flags, 1, 1);
      } catch {
        // Gone already.
      }
    }
  }
}
