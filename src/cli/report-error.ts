import { describeError, renderedError } from '../errors/describe-error.js';
import { ObjectFormatError } from '../object/errors.js';

/**
 * The one place errors of a command reach the user: one message and what
 * to do, never a stack. Anything that is not a user error, a malformed
 * input or a failed system call is a bug in ipbp, and says so.
 */
export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): void {
  if (error instanceof ObjectFormatError) {
    stderr.write(`ipbp: error: ${error.message}\n`);
    return;
  }
  const description = describeError(error);
  stderr.write(`${renderedError(description, description.bug ? 'ipbp: internal error (this is a bug in ipbp): ' : 'ipbp: error: ')}\n`);
}
