import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { describeError, errorText, renderedError } from '../../src/errors/describe-error.js';
import { UserError } from '../../src/errors/user-error.js';

/** The error a real failed system call gives. */
async function failureOf(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('the action did not fail');
}

describe('errors as the user reads them', () => {
  test('a missing file: what failed, on what, and what to do', async () => {
    const description = describeError(await failureOf(() => readFile('/nonexistent/file.rs')));
    assert.deepEqual(description, { message: 'cannot open /nonexistent/file.rs: no such file or directory', causes: [], help: 'check that the path exists', bug: false });
  });

  test('a port in use names the address', async () => {
    const first = createServer();
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    const port = (first.address() as { port: number }).port;
    const second = createServer();
    const error = await new Promise<unknown>((resolve) => second.once('error', resolve).listen(port, '127.0.0.1'));
    first.close();
    assert.equal(errorText(error), `cannot listen on 127.0.0.1:${port}: the address is in use`);
  });

  test('a user error keeps its causes; the rendering puts them under the message', () => {
    const description = describeError(new UserError('cannot read the cargo project', 'cargo-metadata', ['error: could not find `Cargo.toml`']));
    assert.equal(renderedError(description, 'ipbp: error: '), 'ipbp: error: cannot read the cargo project\nCaused by:\n    error: could not find `Cargo.toml`');
  });

  test('anything else is a bug: its message, and its stack in a file the help names', () => {
    const description = describeError(new TypeError('undefined is not a function'));
    assert.equal(description.bug, true);
    assert.equal(description.message, 'undefined is not a function');
    const file = /the details are in (\S+);/.exec(description.help ?? '')?.[1];
    assert.ok(file, description.help);
    assert.match(readFileSync(file, 'utf8'), /TypeError: undefined is not a function\n\s+at /);
    rmSync(file);
  });
});
