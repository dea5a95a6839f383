import { request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';

/**
 * The ways the corpus looks at a running program from outside. Each gives
 * back text (never throws while the program is not answering yet), so a
 * project's expectation is a regular expression over it.
 */

const PROBE_TIMEOUT_MS = 3_000;

/**
 * GET a loopback URL on a fresh connection (some corpus servers close each
 * connection after one response). The text is the status line, the headers
 * lower-cased one per line, a blank line and the body; empty while nothing
 * answers.
 */
export function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, timeout: PROBE_TIMEOUT_MS }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        const headers = Object.entries(response.headers).map(([name, value]) => `${name}: ${String(value)}`);
        resolve(`${response.statusCode} ${response.statusMessage}\n${headers.join('\n')}\n\n${body}`);
      });
      response.on('error', () => resolve(''));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(''));
    req.end();
  });
}

/**
 * One request-reply exchange over TCP: writes `message`, then collects what
 * comes back until `complete` says it is all there, the peer closes, or the
 * probe times out. Empty while nothing answers.
 */
export function tcpExchange(port: number, message: string, complete: (reply: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(finish, PROBE_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(message));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (complete(reply)) finish();
    });
    socket.on('end', finish);
    socket.on('error', finish);
  });
}

/** A loopback port nobody listens on right now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A TCP echo server on loopback, the upstream the proxies forward to; resolves with how to stop it. */
export function startEchoServer(port: number): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<import('node:net').Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.pipe(socket);
    });
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve(
        () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      ),
    );
  });
}
