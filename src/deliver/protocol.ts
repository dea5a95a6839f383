/**
 * The messages between the ipbp CLI and the agent inside the app, byte for
 * byte the same as `crates/ipbp-agent/src/protocol.rs`.
 *
 * A payload is a one-byte tag followed by the fields in order; integers are
 * little-endian, `string` and `bytes` are a u32 length and the bytes. u32
 * fields are numbers, u64 fields are bigints (addresses need all 64 bits).
 * Decoding is strict: a missing or trailing byte is an error. Framing (the
 * u32 length before each payload) lives in `frames.ts`.
 */
import { ProtocolError } from './protocol-error.js';
import { WireReader } from './wire-reader.js';
import { WireWriter } from './wire-writer.js';

export { ProtocolError } from './protocol-error.js';

export const PROTOCOL_VERSION = 6;

const TAG = { hello: 1, 'load-patch': 2, 'patch-result': 3, log: 4, challenge: 5, auth: 6, 'auth-ok': 7, 'sample-stacks': 8, stacks: 9 } as const;

/** agent -> CLI, once, right after the agent connects. */
export interface HelloMessage {
  readonly type: 'hello';
  readonly protocolVersion: number;
  readonly pid: number;
  /** The GNU build-id note of the app's executable (empty if it has none). */
  readonly buildId: Uint8Array;
  readonly exePath: string;
  /** Added to every link-time address of the executable (ASLR). */
  readonly loadBias: bigint;
  /** Lowest and highest mapped address of the executable. */
  readonly imageStart: bigint;
  readonly imageEnd: bigint;
}

/** One function entry the agent overwrites with `jmp to`. */
export interface Redirect {
  readonly from: bigint;
  readonly to: bigint;
}

/**
 * An immediate of the patch's code that holds a thread-pointer offset
 * (local-exec access) of one of the patch's own thread-locals: only known
 * once the loader placed the patch's TLS block. The agent writes `value`
 * plus that block's offset from the thread pointer, in the `form` the
 * instruction takes it.
 */
export interface TlsFixup {
  readonly address: bigint;
  /** The variable's offset in the patch's TLS block plus the relocation's addend (two's complement). */
  readonly value: bigint;
  readonly form: TlsFixupForm;
}

/**
 * How a fixup's offset is written: over 4 or 8 bytes (x86_64), or as the
 * 12-bit immediate of an aarch64 `add`, of bits 0–11 or 12–23 (local exec
 * splits the offset over two adds). On the wire, one byte: 4, 8, 12 or 24.
 */
export type TlsFixupForm = 'u32' | 'u64' | 'add-lo12' | 'add-hi12';

const TLS_FIXUP_FORM_CODES: Readonly<Record<TlsFixupForm, number>> = { u32: 4, u64: 8, 'add-lo12': 12, 'add-hi12': 24 };
const TLS_FIXUP_FORM_OF = new Map(Object.entries(TLS_FIXUP_FORM_CODES).map(([form, code]) => [code, form as TlsFixupForm]));

/** CLI -> agent. */
export interface LoadPatchMessage {
  readonly type: 'load-patch';
  readonly patchId: number;
  /** The build the patch was made for; the agent refuses any other. */
  readonly buildId: Uint8Array;
  readonly path: string;
  /**
   * The patch library itself, for an agent that cannot open `path` (one
   * connected over TCP, on another machine): it loads these bytes instead.
   * Empty: the agent opens `path`.
   */
  readonly library: Uint8Array;
  /** Where the patch's first byte must be mapped; the agent refuses the patch if dlopen put it elsewhere. */
  readonly base: bigint;
  readonly redirects: readonly Redirect[];
  /** Runtime address of the app's `IPBP_HOOK_TABLE_V1` (the `ipbp` crate), or 0 when it has none. */
  readonly hooks: bigint;
  /**
   * Types whose layout the patch changes, one per line (empty: none). The
   * app must have registered a migration for each (`ipbp::migrate`), or the
   * agent refuses the patch with `needsRestart`.
   */
  readonly migrations: string;
  /** Written after dlopen, before any redirect: the patch's local-exec accesses of its own thread-locals. */
  readonly tlsFixups: readonly TlsFixup[];
}

/**
 * How much of a stopped thread's stack the agent could walk:
 * - `complete`: every frame of the thread is listed (the walk reached its outermost frame);
 * - `truncated`: the stack is deeper than the agent records; its innermost frames are listed;
 * - `unknown`: the walk could not go past the last frame listed (no unwind
 *   information for it, or an unreadable stack); what the thread runs beyond it is unknown.
 */
export type StackStatus = 'complete' | 'truncated' | 'unknown';

/** On the wire, a status is its index here. */
const STACK_STATUSES: readonly StackStatus[] = ['complete', 'truncated', 'unknown'];

/** The fewest bytes one stack takes on the wire: tid, status, frame count. */
const STACK_MIN_BYTES = 4 + 1 + 4;

/** Where one thread of the app was executing while the agent had the other threads stopped. */
export interface ThreadStack {
  readonly tid: number;
  readonly status: StackStatus;
  /**
   * The program counter, then the return addresses of its callers, innermost
   * first. A frame a signal interrupted (the thread was in a signal handler)
   * is listed by its program counter, not a return address.
   */
  readonly frames: readonly bigint[];
}

/** agent -> CLI, answering each `load-patch` in order. */
export interface PatchResultMessage {
  readonly type: 'patch-result';
  readonly patchId: number;
  readonly ok: boolean;
  /** Why the patch failed; empty on success. */
  readonly message: string;
  /** Microseconds spent in dlopen and in redirecting (stopping threads included). */
  readonly loadUs: bigint;
  readonly redirectUs: bigint;
  /** Refused because only a restart can apply it (a layout change the app has no migration for); nothing was loaded. */
  readonly needsRestart: boolean;
  /**
   * On success, every other thread's stack as recorded while the patch's
   * jumps were written, one per thread (the agent's own thread, which wrote
   * them, is not listed). Empty on failure, and when the patch redirected
   * nothing (no thread was stopped).
   */
  readonly stacks: readonly ThreadStack[];
}

/** agent -> CLI, a warning to show the developer. */
export interface LogMessage {
  readonly type: 'log';
  readonly message: string;
}

/**
 * CLI -> agent: record every other thread's stack now, in one stop as a
 * patch does: whether the calls that were running when a patch came have
 * returned since.
 */
export interface SampleStacksMessage {
  readonly type: 'sample-stacks';
  readonly requestId: number;
}

/** agent -> CLI, answering each `sample-stacks` in order. */
export interface StacksMessage {
  readonly type: 'stacks';
  readonly requestId: number;
  /** Why the stacks could not be taken; empty on success. */
  readonly message: string;
  readonly stacks: readonly ThreadStack[];
}

/** CLI -> agent, first on a TCP connection: a fresh random nonce. */
export interface ChallengeMessage {
  readonly type: 'challenge';
  readonly nonce: Uint8Array;
}

/** agent -> CLI: the agent's nonce and HMAC-SHA256(token, "ipbp-agent" ‖ challenge nonce ‖ agent nonce). */
export interface AuthMessage {
  readonly type: 'auth';
  readonly nonce: Uint8Array;
  readonly mac: Uint8Array;
}

/** CLI -> agent: HMAC-SHA256(token, "ipbp-cli" ‖ agent nonce ‖ challenge nonce), the CLI's proof. */
export interface AuthOkMessage {
  readonly type: 'auth-ok';
  readonly mac: Uint8Array;
}

export type Message =
  | HelloMessage
  | LoadPatchMessage
  | PatchResultMessage
  | LogMessage
  | SampleStacksMessage
  | StacksMessage
  | ChallengeMessage
  | AuthMessage
  | AuthOkMessage;
export type MessageType = Message['type'];

/** The payload of `message` (without the frame's length prefix). */
export function encodeMessage(message: Message): Buffer {
  const out = new WireWriter();
  out.u8('tag', TAG[message.type]);
  switch (message.type) {
    case 'hello':
      out.u32('hello.protocol_version', message.protocolVersion);
      out.u32('hello.pid', message.pid);
      out.bytes('hello.build_id', message.buildId);
      out.string('hello.exe_path', message.exePath);
      out.u64('hello.load_bias', message.loadBias);
      out.u64('hello.image_start', message.imageStart);
      out.u64('hello.image_end', message.imageEnd);
      break;
    case 'load-patch':
      out.u32('load-patch.patch_id', message.patchId);
      out.bytes('load-patch.build_id', message.buildId);
      out.string('load-patch.path', message.path);
      out.bytes('load-patch.library', message.library);
      out.u64('load-patch.base', message.base);
      out.u32('load-patch.redirect_count', message.redirects.length);
      for (const redirect of message.redirects) {
        out.u64('load-patch.redirect.from', redirect.from);
        out.u64('load-patch.redirect.to', redirect.to);
      }
      out.u64('load-patch.hooks', message.hooks);
      out.string('load-patch.migrations', message.migrations);
      out.u32('load-patch.tls_fixup_count', message.tlsFixups.length);
      for (const fixup of message.tlsFixups) {
        out.u64('load-patch.tls_fixup.address', fixup.address);
        out.u64('load-patch.tls_fixup.value', fixup.value);
        const code = TLS_FIXUP_FORM_CODES[fixup.form];
        if (code === undefined) throw new ProtocolError(`load-patch.tls_fixup.form: ${String(fixup.form)} is not a fixup form`);
        out.u8('load-patch.tls_fixup.form', code);
      }
      break;
    case 'patch-result':
      out.u32('patch-result.patch_id', message.patchId);
      out.u8('patch-result.ok', message.ok ? 1 : 0);
      out.string('patch-result.message', message.message);
      out.u64('patch-result.load_us', message.loadUs);
      out.u64('patch-result.redirect_us', message.redirectUs);
      out.u8('patch-result.needs_restart', message.needsRestart ? 1 : 0);
      encodeStacks(out, message.stacks);
      break;
    case 'log':
      out.string('log.message', message.message);
      break;
    case 'sample-stacks':
      out.u32('sample-stacks.request_id', message.requestId);
      break;
    case 'stacks':
      out.u32('stacks.request_id', message.requestId);
      out.string('stacks.message', message.message);
      encodeStacks(out, message.stacks);
      break;
    case 'challenge':
      out.bytes('challenge.nonce', message.nonce);
      break;
    case 'auth':
      out.bytes('auth.nonce', message.nonce);
      out.bytes('auth.mac', message.mac);
      break;
    case 'auth-ok':
      out.bytes('auth-ok.mac', message.mac);
      break;
    default:
      return unreachable(message);
  }
  return out.finish();
}

/** Parses one payload; anything malformed throws a `ProtocolError`. */
export function decodeMessage(payload: Uint8Array): Message {
  const input = new WireReader(payload);
  const message = decodeFields(input, input.u8('tag'));
  if (input.remaining !== 0) {
    throw new ProtocolError(`${input.remaining} trailing bytes after a ${message.type} message`);
  }
  return message;
}

function decodeFields(input: WireReader, tag: number): Message {
  switch (tag) {
    case TAG.hello:
      return {
        type: 'hello',
        protocolVersion: input.u32('hello.protocol_version'),
        pid: input.u32('hello.pid'),
        buildId: input.bytes('hello.build_id'),
        exePath: input.string('hello.exe_path'),
        loadBias: input.u64('hello.load_bias'),
        imageStart: input.u64('hello.image_start'),
        imageEnd: input.u64('hello.image_end'),
      };
    case TAG['load-patch']: {
      const patchId = input.u32('load-patch.patch_id');
      const buildId = input.bytes('load-patch.build_id');
      const path = input.string('load-patch.path');
      const library = input.bytes('load-patch.library');
      const base = input.u64('load-patch.base');
      const count = input.u32('load-patch.redirect_count');
      // Checked before the loop so a garbled count fails fast and clearly.
      if (count * 16 > input.remaining) input.fail('load-patch.redirects', `${count} redirects need ${count * 16} bytes`);
      const redirects: Redirect[] = [];
      for (let i = 0; i < count; i++) {
        redirects.push({ from: input.u64('load-patch.redirect.from'), to: input.u64('load-patch.redirect.to') });
      }
      const hooks = input.u64('load-patch.hooks');
      const migrations = input.string('load-patch.migrations');
      const tlsFixups = decodeTlsFixups(input);
      return { type: 'load-patch', patchId, buildId, path, library, base, redirects, hooks, migrations, tlsFixups };
    }
    case TAG['patch-result']:
      return {
        type: 'patch-result',
        patchId: input.u32('patch-result.patch_id'),
        ok: input.bool('patch-result.ok'),
        message: input.string('patch-result.message'),
        loadUs: input.u64('patch-result.load_us'),
        redirectUs: input.u64('patch-result.redirect_us'),
        needsRestart: input.bool('patch-result.needs_restart'),
        stacks: decodeStacks(input),
      };
    case TAG.log:
      return { type: 'log', message: input.string('log.message') };
    case TAG['sample-stacks']:
      return { type: 'sample-stacks', requestId: input.u32('sample-stacks.request_id') };
    case TAG.stacks:
      return { type: 'stacks', requestId: input.u32('stacks.request_id'), message: input.string('stacks.message'), stacks: decodeStacks(input) };
    case TAG.challenge:
      return { type: 'challenge', nonce: input.bytes('challenge.nonce') };
    case TAG.auth:
      return { type: 'auth', nonce: input.bytes('auth.nonce'), mac: input.bytes('auth.mac') };
    case TAG['auth-ok']:
      return { type: 'auth-ok', mac: input.bytes('auth-ok.mac') };
    default:
      throw new ProtocolError(`unknown message tag ${tag}`);
  }
}

/** The fewest bytes one TLS fixup takes on the wire: address, value, form. */
const TLS_FIXUP_BYTES = 8 + 8 + 1;

function decodeTlsFixups(input: WireReader): TlsFixup[] {
  const count = input.u32('load-patch.tls_fixup_count');
  if (count * TLS_FIXUP_BYTES > input.remaining) input.fail('load-patch.tls_fixups', `${count} TLS fixups need ${count * TLS_FIXUP_BYTES} bytes`);
  const fixups: TlsFixup[] = [];
  for (let i = 0; i < count; i++) {
    const address = input.u64('load-patch.tls_fixup.address');
    const value = input.u64('load-patch.tls_fixup.value');
    const form = TLS_FIXUP_FORM_OF.get(input.u8In('load-patch.tls_fixup.form', [...TLS_FIXUP_FORM_OF.keys()]))!;
    fixups.push({ address, value, form });
  }
  return fixups;
}

/** Threads' stacks: a count, then each thread's tid, status, frame count and frames. */
function encodeStacks(out: WireWriter, stacks: readonly ThreadStack[]): void {
  out.u32('stack_count', stacks.length);
  for (const stack of stacks) {
    out.u32('stack.tid', stack.tid);
    const status = STACK_STATUSES.indexOf(stack.status);
    if (status < 0) throw new ProtocolError(`stack.status: ${String(stack.status)} is not a stack status`);
    out.u8('stack.status', status);
    out.u32('stack.frame_count', stack.frames.length);
    for (const frame of stack.frames) out.u64('stack.frame', frame);
  }
}

function decodeStacks(input: WireReader): ThreadStack[] {
  const count = input.u32('stack_count');
  // Counts are checked against what is left before reading on, as for redirects.
  if (count * STACK_MIN_BYTES > input.remaining) input.fail('stacks', `${count} stacks need at least ${count * STACK_MIN_BYTES} bytes`);
  const stacks: ThreadStack[] = [];
  for (let i = 0; i < count; i++) {
    const tid = input.u32('stack.tid');
    const status = input.oneOf('stack.status', STACK_STATUSES);
    const frameCount = input.u32('stack.frame_count');
    if (frameCount * 8 > input.remaining) input.fail('stack.frames', `${frameCount} frames need ${frameCount * 8} bytes`);
    const frames: bigint[] = [];
    for (let j = 0; j < frameCount; j++) frames.push(input.u64('stack.frame'));
    stacks.push({ tid, status, frames });
  }
  return stacks;
}

function unreachable(value: never): never {
  throw new ProtocolError(`unknown message ${JSON.stringify(value)}`);
}
