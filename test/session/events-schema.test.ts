import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventsOffSchema } from '../support/events-schema.js';

const STAMP = { time: '2026-12-02T13:05:11.123Z', session: '0123456789abcdef' };

const PATCHED = {
  event: 'patched',
  patch: 3,
  files: ['src/main.rs'],
  changed: ['app::greeting'],
  added: [],
  migrated: [],
  moved: [],
  notes: [],
  ms: { compile: 120.5, diff: 11, link: 20.1, load: 1.2, total: 160 },
  compiled: [{ crate: 'app', ms: 119.9 }],
  pids: [4242],
  ...STAMP,
};

/** The schema is what every e2e suite checks its session's events against (`IpbpRun.remove`); here, that it can say no. */
describe('schema/events.schema.json', () => {
  test('events as a session writes them match', () => {
    assert.deepEqual(eventsOffSchema([PATCHED, { event: 'ready', pid: 7, ...STAMP }, { event: 'compile-error', message: 'error[E0425]: cannot find value `x`', ...STAMP }, { event: 'patch-failed', patch: 0, message: 'a build script failed when rerun', pids: [7], ...STAMP }]), []);
  });

  test('an event without its time or session, of an unknown kind, with a field of the wrong type or an unknown field, does not', () => {
    const { time: _time, ...untimed } = PATCHED;
    const problems = eventsOffSchema([untimed, { ...PATCHED, event: 'patchd' }, { ...PATCHED, patch: '3' }, { ...PATCHED, extra: true }, { event: 'ready', ...STAMP }]);
    assert.equal(problems.length, 5, problems.join('\n'));
  });

  test('terminal colours in a message do not', () => {
    assert.equal(eventsOffSchema([{ event: 'compile-error', message: '\u001b[1m\u001b[31merror\u001b[0m: oops', ...STAMP }]).length, 1);
  });
});
