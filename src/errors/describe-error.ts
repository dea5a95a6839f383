import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from './user-error.js';

/** What a system error code means, and what the user can do about it. */
const SYSTEM_ERRORS: Readonly<Record<string, readonly [meaning: string, advice: string]>> = {
  ENOENT: ['no such file or directory', 'check that the path exists'],
  EACCES: ['permission denied', 'check the permissions of the path, or run as the user who owns it'],
  EPERM: ['operation not permitted', 'check the permissions of the path, or run as the user who owns it'],
  EISDIR: ['it is a directory', 'give a file instead'],
  ENOTDIR: ['a part of the path is not a directory', 'check the path'],
  ELOOP: ['too many symbolic links', 'check the symbolic links along the path'],
  ENAMETOOLONG: ['the name is too long', 'use a shorter path'],
  ENOSPC: ['no space left on the device', 'free some disk space and try again'],
  EDQUOT: ['the disk quota is exhausted', 'free some disk space and try again'],
  EROFS: ['the file system is read-only', 'use a writable directory'],
  EMFILE: ['too many open files', 'raise the limit (`ulimit -n`) and try again'],
  ENFILE: ['too many open files on this machine', 'close some programs and try again'],
  EADDRINUSE: ['the address is in use', 'choose another port, or stop what listens there'],
  EADDRNOTAVAIL: ['the address is not on this machine', 'choose one of its own addresses'],
  ECONNREFUSED: ['nothing listens there', 'check the address'],
  EEXIST: ['it already exists', 'remove it, or choose another path'],
  EBUSY: ['the resource is busy', 'try again once what uses it is done'],
};

/** What Node calls the operation, in words. */
const OPERATIONS: Readonly<Record<string, string>> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the directory',
  rmdir: 'remove the directory',
  rm: 'remove',
  unlink: 'remove',
  rename: 'rename',
  stat: 'read',
  lstat: 'read',
  scandir: 'list the directory',
  copyfile: 'copy',
  link: 'link',
  symlink: 'link',
  chmod: 'change the mode of',
  spawn: 'run',
  listen: 'listen on',
  bind: 'listen on',
  connect: 'connect to',
  watch: 'watch',
};

/** A failed system call, as Node reports it. */
interface SystemError extends Error {
  readonly code: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly address?: string;
  readonly port?: number;
}

export function isSystemError(error: unknown): error is SystemError {
  return error instanceof Error && typeof (error as Partial<SystemError>).code === 'string' && /^E[A-Z]+$/.test((error as SystemError).code);
}

/**
 * A system error in the user's words: what failed, on what, why, and what
 * to do, instead of Node's `ENOENT: no such file or directory, open 'x'`.
 */
export function describeSystemError(error: SystemError): { message: string; advice: string | undefined } {
  const [meaning, advice] = SYSTEM_ERRORS[error.code] ?? [error.code, undefined];
  const syscall = error.syscall?.replace(/^spawn .*/, 'spawn');
  const operation = (syscall && OPERATIONS[syscall]) ?? syscall ?? 'use';
  const target = error.path ?? (error.address !== undefined ? `${error.address}${error.port !== undefined ? `:${error.port}` : ''}` : undefined);
  const message = target === undefined ? `${operation} failed: ${meaning}` : `cannot ${operation} ${target}: ${meaning}`;
  return { message, advice };
}

/** An error as the user reads it: what failed, why (`causes`), what to do (`help`), and whether it is a bug in ipbp. */
export interface ErrorDescription {
  readonly message: string;
  readonly causes: readonly string[];
  readonly help: string | undefined;
  readonly bug: boolean;
}

/**
 * One message for anything that went wrong, never a stack: a user error as
 * it is, a system error described, and anything else (a bug in ipbp) by its
 * message, with the stack kept in a file the help names.
 */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof UserError) return { message: error.message, causes: error.causes, help: undefined, bug: false };
  if (isSystemError(error)) {
    const { message, advice } = describeSystemError(error);
    return { message, causes: [], help: advice, bug: false };
  }
  const message = error instanceof Error ? error.message : String(error);
  const stackFile = keepStack(error);
  return { message, causes: [], help: stackFile && `the details are in ${stackFile}; please include them when you report this`, bug: true };
}

/** An error in one short line, for a warning that goes on: a system error described, anything else by its message. */
export function errorText(error: unknown): string {
  if (isSystemError(error)) return describeSystemError(error).message;
  return error instanceof Error ? error.message : String(error);
}

/** The description as lines for the terminal, after the first line's `prefix`. */
export function renderedError(description: ErrorDescription, prefix: string): string {
  const lines = [`${prefix}${description.message}`];
  for (const cause of description.causes) lines.push(`Caused by:\n    ${cause}`);
  if (description.help) lines.push(`help: ${description.help}`);
  return lines.join('\n');
}

/** Writes an unexpected error's stack to a file of its own; undefined if even that fails. */
function keepStack(error: unknown): string | undefined {
  const path = join(tmpdir(), `ipbp-error-${process.pid}-${Date.now()}.txt`);
  try {
    writeFileSync(path, `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`, { mode: 0o600 });
    return path;
  } catch {
    return undefined;
  }
}
