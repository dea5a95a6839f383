/**
 * The CLI's end of the patch channel: a Unix socket in a private directory
 * that agents inside running apps connect to.
 */
import { EventEmitter } from 'node:events';
import { rm, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { AgentConnection } from './agent-connection.js';
import { authenticateAgent } from './token-auth.js';
import { createPrivateDirectory } from './private-directory.js';
import { type Refusal, refusalKindOf } from './refusals.js';
import { MAX_SOCKET_PATH_BYTES, SOCKET_NAME } from './session-directory.js';

export interface PatchServerOptions {
  /** Where to create the private directory; the OS temp dir by default. */
  readonly parentDirectory?: string;
  /**
   * Listen in this existing private directory (the project's session
   * directory, already checked) instead of a fresh one. A socket file left
   * there by a killed session is replaced: the caller holds the session lock.
   */
  readonly directory?: string;
  /** How long a new connection may take to say hello. */
  readonly helloTimeoutMs?: number;
  /**
   * Also listen on TCP, for agents on other devices. Every TCP peer must
   * prove it knows `token` before it is heard; the CLI proves it back.
   */
  readonly tcp?: { readonly host: string; readonly port: number; readonly token: Uint8Array };
}

export type PatchServerEvents = {
  connected: [connection: AgentConnection];
  disconnected: [connection: AgentConnection, reason: string];
  log: [connection: AgentConnection, message: string];
  /** A connection dropped before it became an agent (garbage, timeout, a reset…). */
  refused: [refusal: Refusal];
  /** A listener failed to accept a connection (out of file descriptors…); it goes on listening. */
  'listener-error': [message: string];
};

/**
 * How many connections may wait to authenticate or say hello at once. An
 * agent does both within milliseconds; beyond this, a new connection is
 * dropped at once, so a flood costs neither memory nor file descriptors.
 */
const MAX_WAITING_CONNECTIONS = 64;

export class PatchServer extends EventEmitter<PatchServerEvents> {
  private readonly live = new Set<AgentConnection>();
  private readonly sockets = new Set<Socket>();
  /** Connections not yet agents: authenticating, or before their hello. */
  private waiting = 0;
  /** The error each socket ended with, if any (a reset, mostly). */
  private readonly socketErrors = new WeakMap<Socket, Error>();
  private closing: Promise<void> | undefined;
  /** A failed start leaves a directory it was handed: it may hold what the next session needs to adopt the app. */
  private keepDirectory = false;
  private tcpServer: Server | undefined;
  /** The TCP address agents of other devices connect to, when listening. */
  tcpAddress: { host: string; port: number } | undefined;

  private constructor(
    readonly directory: string,
    readonly socketPath: string,
    private readonly server: Server,
    private readonly helloTimeoutMs: number,
  ) {
    super();
    server.on('connection', (socket) => {
      if (this.admit(socket, 'unix socket')) this.accept(socket, 'unix socket');
    });
    server.on('error', (error) => this.emit('listener-error', `unix socket: ${error.message}`));
  }

  private async listenOnTcp(options: NonNullable<PatchServerOptions['tcp']>): Promise<void> {
    const server = createServer((socket) => {
      const peer = `tcp ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
      if (!this.admit(socket, peer)) return;
      authenticateAgent(socket, options.token, this.helloTimeoutMs).then(
        () => {
          // Still waiting, now for the hello: authentication alone does not make an agent.
          this.accept(socket, peer);
          socket.resume();
        },
        (error: Error) => {
          this.waiting--;
          socket.destroy();
          this.refuse(socket, peer, error.message);
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.emit('listener-error', `tcp: ${error.message}`));
    const address = server.address();
    if (address && typeof address === 'object') this.tcpAddress = { host: address.address, port: address.port };
    this.tcpServer = server;
  }

  /**
   * Creates the private directory (or takes `options.directory`) and listens
   * on `<directory>/agent.sock`. `close()` removes the directory.
   */
  static async start(options: PatchServerOptions = {}): Promise<PatchServer> {
    const directory = options.directory ?? (await createPrivateDirectory(options.parentDirectory));
    const socketPath = join(directory, SOCKET_NAME);
    try {
      if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
        throw new Error(`socket path ${socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; set TMPDIR to a shorter directory`);
      }
      if (options.directory) await unlink(socketPath).catch(() => undefined);
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const patchServer = new PatchServer(directory, socketPath, server, options.helloTimeoutMs ?? 5000);
      if (options.tcp) {
        try {
          await patchServer.listenOnTcp(options.tcp);
        } catch (error) {
          patchServer.keepDirectory = options.directory !== undefined;
          await patchServer.close();
          throw error;
        }
      }
      return patchServer;
    } catch (error) {
      if (!options.directory) await rm(directory, { recursive: true, force: true });
      throw error;
    }
  }

  /** The agents connected right now. */
  get connections(): readonly AgentConnection[] {
    return [...this.live];
  }

  /**
   * The first connected agent for which `matches` holds — one already here
   * or the next to arrive; rejects after `timeoutMs`.
   */
  waitForAgent(matches: (connection: AgentConnection) => boolean = () => true, timeoutMs = 10_000): Promise<AgentConnection> {
    const present = this.connections.find(matches);
    if (present) return Promise.resolve(present);
    return new Promise((resolve, reject) => {
      const onConnected = (connection: AgentConnection): void => {
        if (!matches(connection)) return;
        clearTimeout(timer);
        this.off('connected', onConnected);
        resolve(connection);
      };
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new Error(`no matching agent connected to ${this.socketPath} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('connected', onConnected);
    });
  }

  /** Disconnects every agent, stops listening, removes the directory. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    for (const connection of this.live) connection.close('the CLI is shutting down');
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    const tcp = this.tcpServer;
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (!this.keepDirectory) await rm(this.directory, { recursive: true, force: true });
  }

  /**
   * Takes a new connection in, or drops it at once (the server is closing,
   * or too many connections wait already). From here on no error of the
   * socket reaches Node as an unhandled `'error'` event: a reset before a
   * word was said is a refusal like any other.
   */
  private admit(socket: Socket, peer: string): boolean {
    // Whoever reads the socket (the handshake, the connection) sees it close; the error says it was a reset.
    socket.on('error', (error) => this.socketErrors.set(socket, error));
    if (this.closing || this.waiting >= MAX_WAITING_CONNECTIONS) {
      socket.destroy();
      if (!this.closing) this.emit('refused', { kind: 'too many waiting', peer, detail: `${MAX_WAITING_CONNECTIONS} connections were already waiting to say hello` });
      return false;
    }
    this.waiting++;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return true;
  }

  private refuse(socket: Socket, peer: string, reason: string): void {
    const error = this.socketErrors.get(socket);
    const detail = error ? `${reason} (${error.message})` : reason;
    this.emit('refused', { kind: refusalKindOf(detail), peer, detail });
  }

  /** Waits for the hello of an admitted connection (authenticated first, over TCP). */
  private accept(socket: Socket, peer: string): void {
    if (this.closing) {
      this.waiting--;
      socket.destroy();
      return;
    }
    AgentConnection.accept(
      socket,
      this.helloTimeoutMs,
      (connection) => {
        this.waiting--;
        this.live.add(connection);
        connection.on('log', (message) => this.emit('log', connection, message));
        connection.once('disconnected', (reason) => {
          this.live.delete(connection);
          this.emit('disconnected', connection, reason);
        });
        this.emit('connected', connection);
      },
      (reason) => {
        this.waiting--;
        this.refuse(socket, peer, reason);
      },
    );
  }
}
