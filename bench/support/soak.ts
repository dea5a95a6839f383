import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { IpbpRun } from '../../test/support/ipbp-run.js';
import { residentBytes } from './process-memory.js';

/** What the soak measured after one patch. */
export interface SoakSample {
  readonly patch: number;
  /** Edit written → the new line seen from the app. */
  readonly milliseconds: number;
  readonly cliResidentBytes: number;
  readonly cliOpenFiles: number;
  readonly appResidentBytes: number;
  /** The patch libraries loaded into the app so far, on disk. */
  readonly patchBytes: number;
  /** ipbp's own stage timings of this patch (its `patched` event). */
  readonly stages: Readonly<Record<string, number>>;
}

/**
 * Successive patches to a running examples/ticker under `session`: patch i
 * makes `greeting` print `soak i tick N`, and the next starts once the app
 * printed it. Every `sampleEvery` patches (and after the first and the
 * last) it reads ipbp's memory and open files, the app's memory and the
 * bytes of the patches it has loaded.
 */
export async function soak(session: IpbpRun, appPid: number, patches: number, sampleEvery: number, onSample?: (sample: SoakSample) => void): Promise<SoakSample[]> {
  const socket = String((await session.waitForEvent((event) => event.event === 'session')).socket);
  const patchDirectory = join(dirname(socket), 'generation-1', 'patches');
  const samples: SoakSample[] = [];
  let current = 'format!("hello from tick {tick}")';
  for (let patch = 1; patch <= patches; patch++) {
    const next = `format!("soak ${patch} tick {tick}")`;
    const from = session.stdout.length;
    const started = performance.now();
    await session.edit('src/main.rs', current, next);
    await session.waitForLine(new RegExp(`^soak ${patch} tick \\d+$`), from);
    const milliseconds = performance.now() - started;
    current = next;
    if (patch === 1 || patch === patches || patch % sampleEvery === 0) {
      const patched = await session.waitForEvent((event) => event.event === 'patched' && event.patch === patch);
      const sample: SoakSample = {
        patch,
        milliseconds,
        cliResidentBytes: await residentBytes(session.child.pid!),
        cliOpenFiles: (await readdir(`/proc/${session.child.pid}/fd`)).length,
        appResidentBytes: await residentBytes(appPid),
        patchBytes: await patchLibraryBytes(patchDirectory, appPid),
        stages: patched.ms as Record<string, number>,
      };
      samples.push(sample);
      onSample?.(sample);
    } else {
      samples.push({ patch, milliseconds, cliResidentBytes: 0, cliOpenFiles: 0, appResidentBytes: 0, patchBytes: 0, stages: {} });
    }
  }
  return samples;
}

/** The bytes of the patch libraries linked for process `pid` (`patch-<id>-<pid>.so`). */
async function patchLibraryBytes(directory: string, pid: number): Promise<number> {
  let bytes = 0;
  for (const name of await readdir(directory)) {
    if (name.endsWith(`-${pid}.so`)) bytes += (await stat(join(directory, name))).size;
  }
  return bytes;
}

/** The samples that measured resources (not only the time). */
export function measured(samples: readonly SoakSample[]): SoakSample[] {
  return samples.filter((sample) => sample.cliOpenFiles > 0);
}
