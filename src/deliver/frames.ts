/**
 * Framing on the agent channel: each payload is preceded by its length as
 * a u32 little-endian. `FrameSplitter` turns a byte stream, arriving in
 * arbitrary chunks, back into whole payloads.
 */
import { ProtocolError } from './protocol-error.js';

/** The largest payload either side accepts (the same limit as the agent's). */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

const HEADER_BYTES = 4;

/** `payload` with its length prefix. */
export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    throw new ProtocolError(`payload of ${payload.byteLength} bytes is over the ${MAX_PAYLOAD_BYTES}-byte frame limit`);
  }
  const frame = Buffer.alloc(HEADER_BYTES + payload.byteLength);
  frame.writeUInt32LE(payload.byteLength, 0);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/**
 * Push chunks in, get whole payloads out. A frame announcing more than
 * `MAX_PAYLOAD_BYTES` throws a `ProtocolError` as soon as its header is
 * seen (nothing is buffered for it), and the splitter stays failed: the
 * stream cannot be resynchronised, so the connection must be dropped.
 */
export class FrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failure: ProtocolError | undefined;

  constructor(private readonly maxPayloadBytes = MAX_PAYLOAD_BYTES) {}

  /** Bytes received that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): Buffer[] {
    if (this.failure) throw this.failure;
    if (chunk.byteLength > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.buffered += chunk.byteLength;
    }
    const payloads: Buffer[] = [];
    for (;;) {
      const payload = this.nextPayload();
      if (payload === undefined) return payloads;
      payloads.push(payload);
    }
  }

  private nextPayload(): Buffer | undefined {
    if (this.buffered < HEADER_BYTES) return undefined;
    const length = this.peekHeader();
    if (length > this.maxPayloadBytes) {
      this.failure = new ProtocolError(`frame announces ${length} bytes, more than the ${this.maxPayloadBytes}-byte limit`);
      throw this.failure;
    }
    if (this.buffered < HEADER_BYTES + length) return undefined;
    // Joining only once a whole frame is here keeps big frames linear.
    const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const payload = Buffer.from(joined.subarray(HEADER_BYTES, HEADER_BYTES + length));
    const rest = joined.subarray(HEADER_BYTES + length);
    this.chunks = rest.byteLength > 0 ? [rest] : [];
    this.buffered = rest.byteLength;
    return payload;
  }

  private peekHeader(): number {
    const first = this.chunks[0]!;
    if (first.byteLength >= HEADER_BYTES) return first.readUInt32LE(0);
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined.readUInt32LE(0);
  }
}
