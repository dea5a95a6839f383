import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SessionEvent } from '../session/reporter.js';
import { runSession } from '../session/run-session.js';

const repository = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The scripted edits, applied to a copy of `examples/ticker/src/main.rs` one after another. */
const EDITS: ReadonlyArray<{ readonly from: string; readonly to: string; readonly says: string }> = [
  { from: 'format!("hello from tick {tick}")', to: 'format!("patched live at tick {tick}!")', says: 'greeting() now says "patched live"' },
  { from: 'format!("patched live at tick {tick}!")', to: 'format!("tick {tick}, and the counter never reset")', says: 'greeting() changed again' },
];
const PAUSE_MS = 1500;

/**
 * `ipbp demo`: build the bundled ticker app, run it under ipbp, edit a copy
 * of its source twice while it runs, and stop. The user's files are never
 * touched: everything happens in a temporary directory.
 */
export async function demoCommand(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'ipbp-demo-'));
  const source = join(directory, 'src', 'main.rs');
  await cp(join(repository, 'examples', 'ticker'), directory, { recursive: true, filter: (path) => !path.includes('/target') });
  const stop = new AbortController();
  let step = 0;
  const say = (message: string): void => void process.stderr.write(`\n[demo] ${message}\n`);

  const next = (): void => {
    setTimeout(() => {
      void (async () => {
        const edit = EDITS[step++];
        if (!edit) {
          say('done: the same process ran three versions of greeting() without restarting');
          stop.abort();
          return;
        }
        const text = await readFile(source, 'utf8');
        await writeFile(source, text.replace(edit.from, edit.to));
        say(`edited src/main.rs: ${edit.says}`);
      })();
    }, PAUSE_MS);
  };
  const onEvent = (event: SessionEvent): void => {
    if (event.event === 'ready' || event.event === 'patched') next();
    if (event.event === 'compile-error' || event.event === 'patch-failed' || event.event === 'restart') {
      say(`unexpected ${event.event}; stopping`);
      stop.abort();
    }
  };

  say(`building the ticker example in ${directory} (the first build also compiles ipbp's agent)`);
  try {
    await runSession({ appArgs: [], processes: 1, restart: false, signal: stop.signal, onEvent }, directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
