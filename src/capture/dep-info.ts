import { readFile } from 'node:fs/promises';

/**
 * The source files a crate was compiled from, read from rustc's dep-info
 * (`.d`, Makefile syntax). It lists every module file and every file pulled
 * in by `include_str!`/`include_bytes!`.
 */
export async function readDepInfo(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  const files = new Set<string>();
  for (const rawLine of text.split('\n')) {
    if (rawLine.startsWith('#') || !rawLine.includes(':')) continue;
    const colon = findRuleColon(rawLine);
    if (colon < 0) continue;
    for (const file of splitEscaped(rawLine.slice(colon + 1))) files.add(file);
  }
  return [...files];
}

/** The colon that ends the target list: the first one not escaped and not part of `C:` style paths. */
function findRuleColon(line: string): number {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') {
      i++;
      continue;
    }
    if (line[i] === ':' && (i + 1 === line.length || line[i + 1] === ' ')) return i;
  }
  return -1;
}

function splitEscaped(list: string): string[] {
  const files: string[] = [];
  let current = '';
  for (let i = 0; i < list.length; i++) {
    const char = list[i]!;
    if (char === '\\' && i + 1 < list.length) {
      current += list[++i];
    } else if (char === ' ') {
      if (current) files.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (current.trim()) files.push(current.trim());
  return files;
}
