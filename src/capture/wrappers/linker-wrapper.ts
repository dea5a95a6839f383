import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CAPTURE_DIR_ENV, type LinkRecord, REAL_LINKER_ENV } from '../capture-record.js';

/**
 * rustc runs this as the linker of workspace binaries. It copies the object
 * files rustc is about to delete, records the link line, and runs the real
 * linker with the same arguments, so the binary is an ordinary binary.
 */
function main(args: string[]): number {
  const realLinker = process.env[REAL_LINKER_ENV] ?? 'cc';
  const captureDir = process.env[CAPTURE_DIR_ENV];
  if (captureDir) record(captureDir, args);
  const result = spawnSync(realLinker, args, { stdio: 'inherit' });
  if (result.error) {
    process.stderr.write(`ipbp linker wrapper: cannot run ${realLinker}: ${result.error.message}\n`);
    return 1;
  }
  return result.status ?? 1;
}

function record(captureDir: string, args: string[]): void {
  const expanded = expandResponseFiles(args);
  const id = randomBytes(4).toString('hex');
  const objectDir = join(captureDir, 'link', id);
  mkdirSync(objectDir, { recursive: true });
  const objects: LinkRecord['objects'] = [];
  for (const arg of expanded) {
    if (!arg.endsWith('.o')) continue;
    const original = resolve(arg);
    const copy = join(objectDir, `${objects.length}-${basename(arg)}`);
    copyFileSync(original, copy);
    objects.push({ original, copy });
  }
  const outputIndex = expanded.indexOf('-o');
  const output = outputIndex >= 0 ? resolve(expanded[outputIndex + 1] ?? '') : '';
  const entry: LinkRecord = { kind: 'link', args: expanded, cwd: process.cwd(), output, objects };
  writeFileSync(join(objectDir, 'link.json'), JSON.stringify(entry));
}

/** rustc passes long link lines through `@file`, one argument per line. */
function expandResponseFiles(args: string[]): string[] {
  return args.flatMap((arg) => {
    if (!arg.startsWith('@')) return [arg];
    return readFileSync(arg.slice(1), 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => line.replace(/\\(.)/g, '$1'));
  });
}

process.exitCode = main(process.argv.slice(2));
