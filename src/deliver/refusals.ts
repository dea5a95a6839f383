/**
 * Why a connection was dropped before it became an agent, by kind: the
 * session reports the first of each kind and counts the rest, so that a
 * port scanner or a flood of connections costs the developer one line,
 * not one per connection.
 */
export type RefusalKind = 'reset' | 'closed early' | 'too slow' | 'wrong token' | 'not the protocol' | 'too many waiting' | 'another build';

export interface Refusal {
  readonly kind: RefusalKind;
  /** Which listener: the Unix socket, or TCP with the peer's address. */
  readonly peer: string;
  readonly detail: string;
}

/** The kind of a refusal, from the reason the handshake or the hello gave. */
export function refusalKindOf(reason: string): RefusalKind {
  if (/ECONNRESET|EPIPE|connection error/.test(reason)) return 'reset';
  if (/does not know the session token/.test(reason)) return 'wrong token';
  if (/^closed (before|during)/.test(reason)) return 'closed early';
  if (/^no (hello|authentication) within/.test(reason)) return 'too slow';
  return 'not the protocol';
}
