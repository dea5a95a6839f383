/**
 * The CLI's end of the patch channel: a Unix socket in a private directory
 * that agents inside running apps connect to.
 */
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { AgentConnection } from './agent-connection.js';
import { authenticateAgent } from './token-auth.js';
import { createPrivateDirectory } from './private-directory.js';

/** Linux's `sun_path` holds 108 bytes, the final NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface PatchServerOptions {
  /** Where to create the private directory; the OS temp dir by default. */
  readonly parentDirectory?: string;
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

  /** Creates the private directory and listens on `<directory>/agent.sock`. */
  static async start(options: PatchServerOptions = {}): Promise<PatchServer> {
    const directory = await createPrivateDirectory(options.parentDirectory);
    const socketPath = join(directory, 'agent.sock');
    try {
      if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
        throw new Error(`socket path ${socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; set TMPDIR to a shorter directory`);
      }
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
          await patchServer.close();
          throw error;
        }
      }
      return patchServer;
    } catch (error) {
      await rm(directory, { recursive: true, force: true });
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
    await rm(this.directory, { recursive: true, force: true });
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
