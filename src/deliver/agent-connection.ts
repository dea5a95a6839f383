import { readFile } from 'node:fs/promises';
/**
 * One agent (one app process) connected to the CLI: what it said in its
 * `hello`, and a way to send it patches.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { encodeFrame, FrameSplitter } from './frames.js';
import {
  decodeMessage,
  encodeMessage,
  PROTOCOL_VERSION,
  type HelloMessage,
  type Message,
  type PatchResultMessage,
  type Redirect,
  type StacksMessage,
  type ThreadStack,
  type TlsFixup,
} from './protocol.js';

export interface LoadPatchRequest {
  readonly patchId: number;
  /** The build the patch was made for; the agent refuses a mismatch. */
  readonly buildId: Uint8Array;
  /** Absolute path of the patch library, readable by the app. */
  readonly path: string;
  /** Where the patch's first byte must be mapped; the agent refuses the patch if dlopen put it elsewhere. */
  readonly base: bigint;
  readonly redirects: readonly Redirect[];
  /** Runtime address of the app's hook table (the `ipbp` crate); 0 or absent when it has none. */
  readonly hooks?: bigint;
  /** Qualified names of the types whose layout the patch changes; the app must migrate each. */
  readonly migrations?: readonly string[];
  /** Local-exec accesses of the patch's own thread-locals, written once the loader placed its TLS block. */
  readonly tlsFixups?: readonly TlsFixup[];
}

/** What the agent answered to a `load-patch`: the message, as the caller of `loadPatch` sees it. */
export type PatchResult = Omit<PatchResultMessage, 'type'>;

/** Rejects every request still waiting when the connection goes away. */
export class AgentDisconnectedError extends Error {
  override readonly name = 'AgentDisconnectedError';
}

export type AgentConnectionEvents = {
  /** A warning from the agent, to show the developer. */
  log: [message: string];
  /** The connection is gone, with the reason (also on a normal exit). */
  disconnected: [reason: string];
};

/** A request the agent has yet to answer; it answers each in order, with a message naming the same id. */
interface PendingRequest {
  readonly answer: 'patch-result' | 'stacks';
  readonly id: number;
  readonly what: string;
  readonly resolve: (answer: PatchResultMessage | StacksMessage) => void;
  readonly reject: (error: Error) => void;
}

/** What a `sample-stacks` brought back: every other thread's stack, or why there are none. */
export interface StackSample {
  readonly ok: boolean;
  readonly message: string;
  readonly stacks: readonly ThreadStack[];
}

export class AgentConnection extends EventEmitter<AgentConnectionEvents> {
  readonly protocolVersion: number;
  readonly pid: number;
  readonly buildId: Uint8Array;
  readonly exePath: string;
  readonly loadBias: bigint;
  readonly imageStart: bigint;
  readonly imageEnd: bigint;

  private readonly pending: PendingRequest[] = [];
  private nextSample = 1;
  private closeReason: string | undefined;

  /** Use `acceptAgent`: a connection exists only once its hello arrived. */
  private constructor(
    private readonly socket: Socket,
    hello: HelloMessage,
  ) {
    super();
    this.protocolVersion = hello.protocolVersion;
    this.pid = hello.pid;
    this.buildId = hello.buildId;
    this.exePath = hello.exePath;
    this.loadBias = hello.loadBias;
    this.imageStart = hello.imageStart;
    this.imageEnd = hello.imageEnd;
  }

  /** Connected over TCP (`--listen`) rather than the session's Unix socket. */
  get remote(): boolean {
    return this.socket.remoteAddress !== undefined;
  }

  get buildIdHex(): string {
    return Buffer.from(this.buildId).toString('hex');
  }

  get isClosed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Why the connection closed, once it has. */
  get closedBecause(): string | undefined {
    return this.closeReason;
  }

  /**
   * Sends `load-patch`; resolves with the agent's `patch-result` (also when
   * the agent refused the patch: look at `ok`). Rejects with
   * `AgentDisconnectedError` if the connection closes first.
   */
  async loadPatch(request: LoadPatchRequest): Promise<PatchResult> {
    // An agent over TCP may run on another machine, where the path means nothing: it gets the library's bytes.
    const library = this.remote ? await readFile(request.path) : new Uint8Array();
    const message: Message = { type: 'load-patch', ...request, library, hooks: request.hooks ?? 0n, migrations: (request.migrations ?? []).join('\n'), tlsFixups: request.tlsFixups ?? [] };
    const answer = (await this.request(message, 'patch-result', request.patchId, `patch ${request.patchId}`)) as PatchResultMessage;
    const { patchId, ok, message: text, loadUs, redirectUs, needsRestart, stacks } = answer;
    return { patchId, ok, message: text, loadUs, redirectUs, needsRestart, stacks };
  }

  /**
   * Every other thread's stack right now, recorded in one stop of the
   * process as a patch records them. Rejects with `AgentDisconnectedError`
   * if the connection closes first.
   */
  async sampleStacks(): Promise<StackSample> {
    const id = this.nextSample++;
    const answer = (await this.request({ type: 'sample-stacks', requestId: id }, 'stacks', id, `stack sample ${id}`)) as StacksMessage;
    return { ok: answer.message === '', message: answer.message, stacks: answer.stacks };
  }

  private request(message: Message, answer: PendingRequest['answer'], id: number, what: string): Promise<PatchResultMessage | StacksMessage> {
    if (this.closeReason !== undefined) {
      return Promise.reject(new AgentDisconnectedError(`agent ${this.pid} is disconnected: ${this.closeReason}`));
    }
    let frame: Buffer;
    try {
      frame = encodeFrame(encodeMessage(message));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ answer, id, what, resolve, reject });
      this.socket.write(frame);
    });
  }

  /** Drops the connection; pending requests are rejected with `reason`. */
  close(reason = 'closed by the CLI'): void {
    this.finish(reason);
  }

  private receive(message: Message): void {
    switch (message.type) {
      case 'patch-result':
      case 'stacks': {
        const id = message.type === 'patch-result' ? message.patchId : message.requestId;
        const what = message.type === 'patch-result' ? `patch ${id}` : `stack sample ${id}`;
        const request = this.pending.shift();
        if (request === undefined || request.answer !== message.type || request.id !== id) {
          if (request !== undefined) this.pending.unshift(request);
          this.finish(`protocol error: the agent answered ${what} but ${request?.what ?? 'no answer'} was expected`);
          return;
        }
        request.resolve(message);
        return;
      }
      case 'log':
        this.emit('log', message.message);
        return;
      case 'hello':
      case 'load-patch':
      case 'sample-stacks':
      case 'challenge':
      case 'auth':
      case 'auth-ok':
        this.finish(`protocol error: the agent sent an unexpected ${message.type} message`);
        return;
      default: {
        const unknown: never = message;
        this.finish(`protocol error: unknown message ${JSON.stringify(unknown)}`);
      }
    }
  }

  private finish(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.socket.destroy();
    for (const request of this.pending.splice(0)) {
      request.reject(new AgentDisconnectedError(`agent ${this.pid} disconnected before answering ${request.what}: ${reason}`));
    }
    this.emit('disconnected', reason);
  }

  /**
   * Reads frames from a freshly accepted socket until the agent's `hello`,
   * then calls `onConnected` — synchronously, so that listeners are in place
   * before any message that arrived in the same chunk is handled. Anything
   * else first, a protocol version mismatch, or no hello within
   * `helloTimeoutMs` calls `onRefused` with the reason and destroys the
   * socket.
   */
  static accept(
    socket: Socket,
    helloTimeoutMs: number,
    onConnected: (connection: AgentConnection) => void,
    onRefused: (reason: string) => void,
  ): void {
    const splitter = new FrameSplitter();
    let connection: AgentConnection | undefined;
    let refused = false;

    const refuse = (reason: string): void => {
      if (refused) return;
      refused = true;
      clearTimeout(timer);
      socket.destroy();
      onRefused(reason);
    };
    const timer = setTimeout(() => refuse(`no hello within ${helloTimeoutMs} ms`), helloTimeoutMs);

    const handlePayload = (payload: Uint8Array): void => {
      const message = decodeMessage(payload);
      if (connection !== undefined) {
        connection.receive(message);
        return;
      }
      if (message.type !== 'hello') throw new Error(`protocol error: expected hello, got ${message.type}`);
      if (message.protocolVersion !== PROTOCOL_VERSION) {
        throw new Error(`the agent speaks protocol ${message.protocolVersion}, this CLI speaks ${PROTOCOL_VERSION} (rebuild the agent)`);
      }
      clearTimeout(timer);
      connection = new AgentConnection(socket, message);
      onConnected(connection);
    };

    socket.on('data', (chunk: Buffer) => {
      try {
        for (const payload of splitter.push(chunk)) {
          if (refused || connection?.isClosed) return;
          handlePayload(payload);
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        if (connection === undefined) refuse(reason);
        else connection.finish(`dropped: ${reason}`);
      }
    });
    socket.on('error', (error) => {
      const reason = `connection error: ${error.message}`;
      if (connection === undefined) refuse(reason);
      else connection.finish(reason);
    });
    socket.on('close', () => {
      if (connection === undefined) refuse('closed before hello');
      else connection.finish('the agent closed the connection');
    });
  }
}
