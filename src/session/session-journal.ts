import { realpath } from 'node:fs/promises';
import type { BuildSelection } from '../capture/capture.js';
import { type Generation, savedGenerationOf } from './generation.js';
import { mappedPatchesOf } from './mapped-patches.js';
import type { BuiltPatch } from './patcher.js';
import type { RunningApp } from './running-app.js';
import { type SavedApp, SessionRecordWriter } from './session-record.js';

/** What the session is doing now, as the journal writes it down. */
export interface JournalSubject {
  readonly setting: SessionSetting;
  readonly generation: Generation | undefined;
  readonly generationNumber: number;
  readonly apps: Iterable<RunningApp>;
}

/** What the processes are built and started from; an adopting `ipbp attach` takes it over from the record. */
export interface SessionSetting {
  readonly selection: BuildSelection;
  readonly cwd: string;
  readonly appArgs: readonly string[];
  readonly processes: number;
}

/**
 * Keeps session.json up to date, so that whenever ipbp is killed, the next
 * `ipbp run` or `ipbp attach` can adopt the processes it leaves running.
 */
export class SessionJournal {
  private readonly writer: SessionRecordWriter;
  private generation: Generation | undefined;
  /** Every patch of the current generation sent to a process, oldest first. */
  private sent: BuiltPatch[] = [];

  constructor(
    directory: string,
    private readonly subject: () => JournalSubject,
  ) {
    this.writer = new SessionRecordWriter(directory);
  }

  /** From now on the processes run `generation`; `sent` are its patches an earlier session already sent. */
  follow(generation: Generation, sent: readonly BuiltPatch[] = []): void {
    this.generation = generation;
    this.sent = [...sent];
    generation.patcher.beforeDelivery = async (patch) => {
      if (this.generation !== generation || this.sent.some((known) => known.id === patch.id)) return;
      this.sent.push(patch);
      await this.save();
    };
  }

  /** Every patch of the current generation sent to a process so far, oldest first. */
  get sentPatches(): readonly BuiltPatch[] {
    return this.sent;
  }

  /** Resolves once every write asked for so far is done: a clean shutdown removes the directory after them. */
  settled(): Promise<void> {
    return this.writer.settled();
  }

  /** Writes the record; resolves once it is on disk. */
  save(): Promise<void> {
    return this.writer.write(async () => {
      const { setting, generation, generationNumber, apps } = this.subject();
      if (!generation || generation !== this.generation) throw new Error('the journal follows no generation');
      const binary = await realpath(generation.build.binary).catch(() => generation.build.binary);
      const saved: SavedApp[] = [];
      for (const app of apps) {
        const patches = (await mappedPatchesOf(app.pid)).map((patch) => ({ id: patch.id, path: patch.path, base: `0x${patch.start.toString(16)}` }));
        saved.push({ pid: app.pid, startTicks: app.startTicks, binary, patches });
      }
      return {
        ...setting,
        generation: savedGenerationOf(generation, generationNumber),
        apps: saved,
        patches: this.sent,
        history: generation.patcher.patchHistory.map((patch) => patch.id),
      };
    });
  }
}
