import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { CorpusResult } from './run-one.js';

/** The corpus table, in Markdown: what `npm run corpus` prints and the README shows. */
export function formatTable(results: readonly CorpusResult[]): string {
  const header = '| project | version | shape | start ms | first patch ms | warm patch ms | outcome |';
  const rule = '| --- | --- | --- | --: | --: | --: | --- |';
  const rows = results.map((result) =>
    `| ${result.project} | ${result.version} | ${result.shape} | ${figure(result.startMs)} | ${figure(result.firstPatchMs)} | ${figure(result.warmPatchMs)} | ${outcomeOf(result)} |`,
  );
  return [header, rule, ...rows].join('\n');
}

function outcomeOf(result: CorpusResult): string {
  if (result.outcome === 'patched') return 'patched in place (same pid), stopped cleanly';
  // A table cell holds one line, and a `|` would end it.
  return `**failed**: ${(result.reason ?? 'no reason recorded').replace(/\s*\n\s*/g, ' ').replaceAll('|', '\\|')}`;
}

function figure(ms: number | null): string {
  return ms === null ? '–' : ms.toLocaleString('en-US').replaceAll(',', ' ');
}

/** The machine a run happened on, so figures from different runs can be compared. */
export function describeMachine(): Record<string, string | number> {
  let rustc = 'unknown';
  try {
    rustc = execFileSync('rustc', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // Reported as unknown.
  }
  return { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, rustc };
}

export async function writeResults(path: string, results: readonly CorpusResult[], extra: Record<string, unknown>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const document = { ...extra, machine: describeMachine(), results };
  await writeFile(path, `${JSON.stringify(document, null, 2)}\n`);
}
