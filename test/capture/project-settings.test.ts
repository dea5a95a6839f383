import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CargoWorkspace, WorkspaceMember } from '../../src/capture/cargo-metadata.js';
import { readProjectSettings } from '../../src/capture/project-settings.js';

function member(root: string, name: string, binaries: string[], ipbpTable: unknown): WorkspaceMember {
  return { id: `path+file://${root}/${name}#0.1.0`, name, manifestPath: join(root, name, 'Cargo.toml'), buildScript: undefined, binaries, defaultRun: undefined, ipbpTable };
}

function workspaceOf(root: string, members: WorkspaceMember[], ipbpTable: unknown): CargoWorkspace {
  return { root, targetDirectory: join(root, 'target'), members, pathDependencies: [], localPackages: members, ipbpTable };
}

describe('[package.metadata.ipbp] and [workspace.metadata.ipbp]', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ipbp-settings-'));
    await mkdir(join(root, 'server', 'templates', 'mail'), { recursive: true });
    await writeFile(join(root, 'server', 'templates', 'index.html'), '');
    await writeFile(join(root, 'server', 'templates', 'mail', 'welcome.txt'), '');
  });
  after(async () => rm(root, { recursive: true, force: true }));

  test("from a virtual root, --bin picks the package whose table counts; its paths are relative to its manifest, a folder stands for its files", async () => {
    const server = member(root, 'server', ['server'], { watch: ['templates'], restart: true });
    const tool = member(root, 'tool', ['tool'], { args: ['never'] });
    const settings = await readProjectSettings(workspaceOf(root, [server, tool], { args: ['--port', '8080'], restart: false }), { bin: 'server' }, root);
    assert.deepEqual(settings.args, ['--port', '8080'], "the workspace's, which the package does not override");
    assert.equal(settings.restart, true, "the package's, over the workspace's");
    assert.deepEqual([...settings.watch].sort(), [join(root, 'server', 'templates', 'index.html'), join(root, 'server', 'templates', 'mail', 'welcome.txt')]);
  });

  test('-p with a version picks the package by name; ignore paths are resolved, unknown keys named', async () => {
    const server = member(root, 'server', ['server'], { ignore: ['src/generated'], wacth: ['x'] });
    const settings = await readProjectSettings(workspaceOf(root, [server, member(root, 'tool', ['tool'], undefined)], undefined), { package: 'server@0.1.0' }, root);
    assert.deepEqual(settings.ignore, [join(root, 'server', 'src', 'generated')]);
    assert.deepEqual(settings.unknownKeys, ['`wacth` in [package.metadata.ipbp] of server/Cargo.toml']);
  });

  test('a value of the wrong type is refused, naming where it is', async () => {
    const bad = (table: unknown): Promise<unknown> => readProjectSettings(workspaceOf(root, [member(root, 'server', ['server'], undefined)], table), { package: 'server' }, root);
    await assert.rejects(bad({ restart: 'no' }), /`restart` in \[workspace\.metadata\.ipbp\] of Cargo\.toml must be true or false/);
    await assert.rejects(bad({ watch: [1] }), /`watch` in \[workspace\.metadata\.ipbp\] of Cargo\.toml must be an array of strings/);
    await assert.rejects(bad(['args']), /the table in \[workspace\.metadata\.ipbp\] of Cargo\.toml must be a table of settings/);
  });
});
