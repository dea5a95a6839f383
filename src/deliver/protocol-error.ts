/**
 * Everything wrong with bytes on the agent channel — a truncated or garbled
 * payload, an unknown tag, an oversized frame, a message that cannot be
 * encoded — surfaces as one `ProtocolError`, so callers can tell a
 * misbehaving peer from a bug in ipbp.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}
