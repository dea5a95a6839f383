import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { encodeFrame, FrameSplitter } from './frames.js';
import { decodeMessage, encodeMessage } from './protocol.js';

const NONCE_BYTES = 32;
const AGENT_LABEL = 'ipbp-agent';
const CLI_LABEL = 'ipbp-cli';

/** A fresh session token: 32 random bytes, shown to the user as hex. */
export function newSessionToken(): Buffer {
  return randomBytes(32);
}

/**
 * The CLI's half of the TCP handshake. The agent proves it knows the token
 * (so no one else on the network can inject into the session), then the CLI
 * proves it too (so an agent never takes patches from an impostor). Neither
 * side sends the token itself. Resolves once the agent is authenticated;
 * rejects with the reason otherwise. Nothing else may arrive before that.
 */
export function authenticateAgent(socket: Socket, token: Uint8Array, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const challenge = randomBytes(NONCE_BYTES);
    const splitter = new FrameSplitter();
    const timer = setTimeout(() => finish(new Error(`no authentication within ${timeoutMs} ms`)), timeoutMs);
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      // Hold what follows (the hello) until the connection's reader is attached.
      socket.pause();
      if (error) reject(error);
      else resolve();
    };
    const onClose = (): void => finish(new Error('closed during authentication'));
    const onData = (chunk: Buffer): void => {
      try {
        const payloads = splitter.push(chunk);
        if (payloads.length === 0) return;
        if (payloads.length > 1 || splitter.bufferedBytes > 0) throw new Error('the peer sent more than its authentication');
        const message = decodeMessage(payloads[0]!);
        if (message.type !== 'auth') throw new Error(`expected auth, got ${message.type}`);
        const expected = mac(token, AGENT_LABEL, challenge, message.nonce);
        if (message.nonce.length !== NONCE_BYTES || message.mac.length !== expected.length || !timingSafeEqual(expected, message.mac)) {
          throw new Error('authentication failed: the peer does not know the session token');
        }
        socket.write(encodeFrame(encodeMessage({ type: 'auth-ok', mac: mac(token, CLI_LABEL, message.nonce, challenge) })));
        finish();
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(encodeFrame(encodeMessage({ type: 'challenge', nonce: challenge })));
  });
}

function mac(token: Uint8Array, label: string, first: Uint8Array, second: Uint8Array): Buffer {
  return createHmac('sha256', token).update(label).update(first).update(second).digest();
}
