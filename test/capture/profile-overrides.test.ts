import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { profileOverrides } from '../../src/capture/profile-overrides.js';

describe('profile settings a patchable build does without', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ipbp-profile-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  test('strip and cross-crate LTO in the manifest are overridden, with what the user wrote', async () => {
    await writeFile(join(root, 'Cargo.toml'), '[package]\nname = "x"\n\n[profile.release]\nstrip = true\nlto = "fat"\nopt-level = 3\n');
    assert.deepEqual(await profileOverrides(root, 'release'), [
      { setting: 'strip = true', config: 'profile.release.strip=false' },
      { setting: 'lto = "fat"', config: 'profile.release.lto=false' },
    ]);
    assert.deepEqual(await profileOverrides(root, 'dev'), [], 'another profile is untouched');
  });

  test("settings that keep symbols and crate boundaries are left alone; cargo's configuration counts too", async () => {
    await writeFile(join(root, 'Cargo.toml'), '[package]\nname = "x"\n\n[profile.release]\nstrip = "debuginfo"\nlto = false\n');
    assert.deepEqual(await profileOverrides(root, 'release'), []);
    await mkdir(join(root, '.cargo'), { recursive: true });
    await writeFile(join(root, '.cargo', 'config.toml'), '[profile.dev]\nstrip = "symbols"\nlto = "thin"\n');
    assert.deepEqual(
      (await profileOverrides(root, 'dev')).map((override) => override.setting),
      ['strip = "symbols"', 'lto = "thin"'],
    );
  });

  test('a malformed manifest is left for cargo to report', async () => {
    await writeFile(join(root, 'Cargo.toml'), '[profile.release\nstrip = true');
    await rm(join(root, '.cargo'), { recursive: true, force: true });
    assert.deepEqual(await profileOverrides(root, 'release'), []);
  });
});

describe('profiles that inherit', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ipbp-profile-inherit-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  test("a custom profile has what it inherits, under its own settings, and the override names it", async () => {
    await writeFile(join(root, 'Cargo.toml'), '[profile.release]\nstrip = true\nlto = "thin"\n\n[profile.fast]\ninherits = "release"\nlto = false\n\n[profile.faster]\ninherits = "fast"\n');
    assert.deepEqual(await profileOverrides(root, 'fast'), [{ setting: 'strip = true', config: 'profile.fast.strip=false' }]);
    assert.deepEqual(await profileOverrides(root, 'faster'), [{ setting: 'strip = true', config: 'profile.faster.strip=false' }], 'through two levels');
  });

  test('the built-in bench profile inherits release', async () => {
    await writeFile(join(root, 'Cargo.toml'), '[profile.release]\nlto = true\n');
    assert.deepEqual(await profileOverrides(root, 'bench'), [{ setting: 'lto = true', config: 'profile.bench.lto=false' }]);
  });

  test('a cycle, which cargo refuses, ends the search', async () => {
    await writeFile(join(root, 'Cargo.toml'), '[profile.a]\ninherits = "b"\nstrip = true\n\n[profile.b]\ninherits = "a"\n');
    assert.deepEqual((await profileOverrides(root, 'a')).map((override) => override.setting), ['strip = true']);
  });
});
