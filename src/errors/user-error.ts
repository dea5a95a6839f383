/**
 * A mistake or a bad input on the user's side: printed as one message with
 * its causes, never with a stack. Every stage may throw it; only the CLI
 * renders it.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly code: string,
    readonly causes: readonly string[] = [],
  ) {
    super(message);
  }
}
