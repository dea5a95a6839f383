import { diffObjects } from '../diff/compare.js';
import { formatDiffReport } from '../diff/report-text.js';
import { readObjectPath } from '../object/read.js';
import { UserError } from './errors.js';

export interface DiffOptions {
  readonly json?: boolean;
}

/** `ipbp diff OLD NEW`: which functions and data differ between two builds. */
export async function diffCommand(oldPath: string, newPath: string, options: DiffOptions): Promise<void> {
  const [oldObjects, newObjects] = await Promise.all([readObjectPath(oldPath), readObjectPath(newPath)]);
  if (oldObjects.length === 0) throw new UserError(`no object files found in ${oldPath}`, 'no-objects');
  if (newObjects.length === 0) throw new UserError(`no object files found in ${newPath}`, 'no-objects');
  const { report } = diffObjects(oldObjects, newObjects);
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatDiffReport(report));
}
