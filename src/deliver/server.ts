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
  /** A connection dropped before it became an agent (garbage, timeout…). */
  refused: [reason: string];
};

export class PatchServer extends EventEmitter<PatchServerEvents> {
  private readonly live = new Set<AgentConnection>();
  private readonly sockets = new Set<Socket>();
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
    server.on('connection', (socket) => this.accept(socket));
  }

  private async listenOnTcp(options: NonNullable<PatchServerOptions['tcp']>): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      authenticateAgent(socket, options.token, this.helloTimeoutMs).then(
        () => {
          this.accept(socket);
          socket.resume();
        },
        (error: Error) => {
          socket.destroy();
          this.emit('refused', `tcp peer ${socket.remoteAddress ?? '?'}: ${error.message}`);
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

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    AgentConnection.accept(
      socket,
      this.helloTimeoutMs,
      (connection) => {
        this.live.add(connection);
        connection.on('log', (message) => this.emit('log', connection, message));
        connection.once('disconnected', (reason) => {
          this.live.delete(connection);
          this.emit('disconnected', connection, reason);
        });
        this.emit('connected', connection);
      },
      (reason) => this.emit('refused', reason),
    );
  }
}
