import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

/**
 * Where an edit is: the first line that differs in the first saved file
 * that changed, as `src/main.rs:12`, for the one line that says why an edit
 * cannot be patched. Keeps the text of the files it was shown, and moves on
 * to each save's text.
 */
export class EditLocations {
  private readonly texts = new Map<string, string>();

  /** Takes the current text of `files` as what the next edit is compared with. */
  async remember(files: readonly string[]): Promise<void> {
    for (const file of files) {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text !== undefined) this.texts.set(file, text);
    }
  }

  /** The first changed line among `files` (named relative to `root`), compared with what was remembered; the new texts are remembered. */
  async locate(files: readonly string[], root: string): Promise<string | undefined> {
    let found: string | undefined;
    for (const file of files) {
      const before = this.texts.get(file);
      const after = await readFile(file, 'utf8').catch(() => undefined);
      if (after === undefined) continue;
      this.texts.set(file, after);
      if (found !== undefined || before === undefined || before === after) continue;
      found = `${relative(root, file) || file}:${firstDifferentLine(before, after)}`;
    }
    return found;
  }
}

function firstDifferentLine(before: string, after: string): number {
  const a = before.split('\n');
  const b = after.split('\n');
  let line = 0;
  while (line < a.length && line < b.length && a[line] === b[line]) line++;
  return line + 1;
}
