import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EditBurst } from '../../src/watch/edit-burst.js';

/** Collects what a burst reports, and waits for the next report. */
function collector(): { edits: string[][]; onEdit: (files: string[]) => void; next: () => Promise<string[]> } {
  const edits: string[][] = [];
  let waiting: ((files: string[]) => void) | undefined;
  return {
    edits,
    onEdit: (files) => {
      edits.push(files);
      waiting?.(files);
      waiting = undefined;
    },
    next: () => new Promise((resolve) => (waiting = resolve)),
  };
}

describe('EditBurst', () => {
  test('events for one file within the quiet period are one edit', async () => {
    const seen = collector();
    const burst = new EditBurst(5, seen.onEdit, () => true);
    const reported = seen.next();
    burst.record('/p/a.rs');
    burst.record('/p/a.rs');
    burst.record('/p/b.rs');
    assert.deepEqual(await reported, ['/p/a.rs', '/p/b.rs']);
    assert.equal(seen.edits.length, 1);
  });

  test('a file missing when the burst ends is left out; it counts again once it is back', async () => {
    const present = new Set(['/p/b.rs']);
    const seen = collector();
    const burst = new EditBurst(5, seen.onEdit, (path) => present.has(path));
    let reported = seen.next();
    burst.record('/p/a.rs');
    burst.record('/p/b.rs');
    assert.deepEqual(await reported, ['/p/b.rs'], 'the unlinked file is not reported as an edit');

    present.add('/p/a.rs');
    reported = seen.next();
    burst.record('/p/a.rs');
    assert.deepEqual(await reported, ['/p/a.rs'], 'its re-creation is');
  });

  test('a burst of deleted files only reports nothing; the next save is reported alone', async () => {
    const present = new Set(['/p/b.rs']);
    const seen = collector();
    const burst = new EditBurst(5, seen.onEdit, (path) => present.has(path));
    burst.record('/p/gone.rs');
    // Its own quiet period passes with nothing reported: the next edit is exactly the later save.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const reported = seen.next();
    burst.record('/p/b.rs');
    assert.deepEqual(await reported, ['/p/b.rs']);
    assert.deepEqual(seen.edits, [['/p/b.rs']]);
  });

  test('nothing is reported after cancel', async () => {
    const seen = collector();
    const burst = new EditBurst(5, seen.onEdit, () => true);
    burst.record('/p/a.rs');
    burst.cancel();
    const later = new EditBurst(5, seen.onEdit, () => true);
    const reported = seen.next();
    later.record('/p/c.rs');
    assert.deepEqual(await reported, ['/p/c.rs']);
    assert.deepEqual(seen.edits, [['/p/c.rs']], 'the cancelled burst never reported /p/a.rs');
  });
});
