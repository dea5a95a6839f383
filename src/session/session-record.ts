import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SavedBuildInputs } from '../capture/build-inputs.js';
import type { BuildSelection, CapturedBuild } from '../capture/capture.js';
import type { BuiltPatch } from './patcher.js';
import { SerialQueue } from './serial-queue.js';

const RECORD_NAME = 'session.json';
/** Bumped whenever the shape changes: a record of another shape is not adopted from. */
const FORMAT = 2;

/** A build as session.json keeps it: enough to patch its processes again without running cargo. */
export interface SavedGeneration {
  readonly number: number;
  readonly directory: string;
  readonly build: CapturedBuild;
  readonly buildId: string;
  readonly buildInputs: SavedBuildInputs;
}

/** A process the session runs, and the patch libraries it had loaded when the record was written. */
export interface SavedApp {
  readonly pid: number;
  readonly startTicks: string | undefined;
  /** The executable it was started from (its realpath). */
  readonly binary: string;
  readonly patches: ReadonlyArray<{ readonly id: number; readonly path: string; readonly base: string }>;
}

/**
 * What a later `ipbp run` or `ipbp attach` needs to adopt the processes of
 * a session that was killed: the build they run, which processes they are,
 * and every patch sent to them.
 */
export interface SessionRecord {
  readonly format: number;
  readonly selection: BuildSelection;
  readonly cwd: string;
  readonly appArgs: readonly string[];
  readonly processes: number;
  readonly generation: SavedGeneration;
  readonly apps: readonly SavedApp[];
  /** Every patch of this generation sent to a process, oldest first (also one ipbp died delivering). */
  readonly patches: readonly BuiltPatch[];
  /** The ids of those that every connected process got: what a late process is brought up to. */
  readonly history: readonly number[];
}

export function recordPathIn(directory: string): string {
  return join(directory, RECORD_NAME);
}

/** The record in `directory`; undefined when there is none or it is not one this ipbp wrote. */
export async function readSessionRecord(directory: string): Promise<SessionRecord | undefined> {
  const text = await readFile(recordPathIn(directory), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as Partial<SessionRecord>;
    if (record.format !== FORMAT || !record.generation?.build || !Array.isArray(record.apps) || !Array.isArray(record.patches) || !Array.isArray(record.history)) {
      return undefined;
    }
    return record as SessionRecord;
  } catch {
    return undefined;
  }
}

/**
 * Writes records one at a time, each whole (a temporary file renamed over
 * the old one): ipbp may be killed at any moment, and the next session must
 * find either the previous record or the new one.
 */
export class SessionRecordWriter {
  private readonly queue = new SerialQueue();

  constructor(private readonly directory: string) {}

  /** Writes what `describe` returns when this write's turn comes, so a late write never holds older facts than an earlier one. */
  write(describe: () => Promise<Omit<SessionRecord, 'format'>>): Promise<void> {
    return this.queue.run(async () => {
      const record: SessionRecord = { format: FORMAT, ...(await describe()) };
      const path = recordPathIn(this.directory);
      const temporary = `${path}.tmp`;
      await writeFile(temporary, `${JSON.stringify(record)}\n`, { mode: 0o600 });
      await rename(temporary, path);
    });
  }

  /** Resolves once every write asked for so far is done (or failed). */
  settled(): Promise<void> {
    return this.queue.idle();
  }
}
