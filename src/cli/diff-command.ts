import { diffObjects } from '../diff/compare.js';
import { formatDiffReport } from '../diff/report-text.js';
import { readDiffInputs } from '../diff/inputs.js';
import { UserError } from '../errors/user-error.js';

export interface DiffOptions {
  readonly json?: boolean;
}

/** `ipbp diff OLD NEW`: which functions and data differ between two builds. */
export async function diffCommand(oldPath: string, newPath: string, options: DiffOptions): Promise<void> {
  const inputs = await readDiffInputs(oldPath, newPath);
  if (inputs.files.old === 0) throw new UserError(`no object files found in ${oldPath}`, 'no-objects');
  if (inputs.files.new === 0) throw new UserError(`no object files found in ${newPath}`, 'no-objects');
  const { report } = diffObjects(inputs.old, inputs.new);
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatDiffReport(report));
}
