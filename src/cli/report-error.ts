import { UserError } from '../errors/user-error.js';
import { ObjectFormatError } from '../object/errors.js';

/**
 * The one place errors reach the user. Anything that is not a user error or a
 * malformed input is a bug in ipbp and is shown with its stack.
 */
export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): void {
  if (error instanceof UserError) {
    stderr.write(`ipbp: error: ${error.message}\n`);
    for (const cause of error.causes) stderr.write(`Caused by:\n    ${cause}\n`);
    return;
  }
  if (error instanceof ObjectFormatError) {
    stderr.write(`ipbp: error: ${error.message}\n`);
    return;
  }
  if (isNodeError(error) && error.code !== undefined && PATH_ERRORS.has(error.code)) {
    stderr.write(`ipbp: error: ${error.message}\n`);
    return;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  stderr.write(`ipbp: internal error (this is a bug in ipbp):\n${detail}\n`);
}

/** File system errors caused by the path the user gave: reported in one line, like a malformed input. */
const PATH_ERRORS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}
