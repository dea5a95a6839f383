import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { measured, soak, type SoakSample } from '../../bench/support/soak.js';
import { IpbpRun } from '../support/ipbp-run.js';

const PATCHES = 100;
const MIB = 1024 * 1024;

/**
 * The soak's slice in the tests (`node dist/bench/soak.js` runs a
 * thousand): successive patches to one running app, each seen in its
 * output, with nothing piling up in ipbp or in the app. Resource bounds
 * only: how long patches take is the benchmark's business.
 */
describe(`${PATCHES} successive patches to one app (examples/ticker)`, () => {
  let session: IpbpRun;
  let pid: number;
  let samples: SoakSample[];

  before(async () => {
    session = await IpbpRun.start('ticker');
    pid = await session.untilRunning(/^hello from tick \d+$/);
    samples = measured(await soak(session, pid, PATCHES, 20));
  });
  after(async () => session?.remove());

  test('every patch went to the same process, which printed its new line', async () => {
    const patched = (await session.events()).filter((event) => event.event === 'patched');
    assert.equal(patched.length, PATCHES);
    assert.ok(patched.every((event) => JSON.stringify(event.pids) === JSON.stringify([pid])));
    assert.equal((await session.events()).filter((event) => event.event === 'restart').length, 0);
  });

  test("ipbp's open files do not grow with the patches", () => {
    const [early, last] = [samples.find((sample) => sample.patch === 20)!, samples.at(-1)!];
    assert.ok(last.cliOpenFiles <= early.cliOpenFiles + 4, `open files after patch 20: ${early.cliOpenFiles}, after ${last.patch}: ${last.cliOpenFiles}`);
  });

  test("the app's memory grows by about the patches' own size", () => {
    const [first, last] = [samples[0]!, samples.at(-1)!];
    const growth = last.appResidentBytes - first.appResidentBytes;
    assert.ok(growth <= last.patchBytes + 8 * MIB, `RSS +${(growth / MIB).toFixed(1)} MB for ${(last.patchBytes / MIB).toFixed(1)} MB of patches`);
  });

  test("ipbp's memory stays bounded", () => {
    const [early, last] = [samples.find((sample) => sample.patch === 20)!, samples.at(-1)!];
    const growth = last.cliResidentBytes - early.cliResidentBytes;
    assert.ok(growth <= 64 * MIB, `ipbp RSS +${(growth / MIB).toFixed(1)} MB from patch 20 to ${last.patch}`);
  });
});
