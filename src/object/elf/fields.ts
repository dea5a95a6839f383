/**
 * Unchecked little-endian reads for the three big tables of an object
 * (section headers, symbols, relocations): a debug build has hundreds of
 * thousands of entries, and a bounds-checked call plus a bigint per field was
 * most of the time spent reading it. Callers use these only for records lying
 * wholly inside the file and go through the checked `ByteReader` otherwise, or
 * when a value is out of range, so every error stays what it was.
 */

const views = new WeakMap<Uint8Array, DataView>();

/** A DataView over `bytes`, one per object rather than one per relocation section. */
export function viewOf(bytes: Uint8Array): DataView {
  let view = views.get(bytes);
  if (!view) views.set(bytes, (view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
  return view;
}

/** The u64 at `at` as a number, or undefined when it exceeds Number.MAX_SAFE_INTEGER. */
export function safeU64(view: DataView, at: number): number | undefined {
  const high = view.getUint32(at + 4, true);
  const low = view.getUint32(at, true);
  // Returning `low` itself keeps small values small integers: one computed as a
  // double makes V8 box that field in every section, symbol and relocation.
  if (high === 0) return low;
  if (high > 0x1fffff) return undefined;
  return high * 0x100000000 + low;
}

/** The u64 at `at` as a bigint; zero, the common value of addresses and symbol values in relocatables, allocates nothing. */
export function u64Big(view: DataView, at: number): bigint {
  if (view.getUint32(at, true) === 0 && view.getUint32(at + 4, true) === 0) return 0n;
  return view.getBigUint64(at, true);
}

const SMALL_LIMIT = 256;
/** Bigints for -256..255: relocation addends are nearly all here (-4 for calls, 0 for data). */
const SMALL: readonly bigint[] = Array.from({ length: 2 * SMALL_LIMIT }, (_, i) => BigInt(i - SMALL_LIMIT));

/** The i64 at `at` as a bigint, shared for small values. */
export function i64Big(view: DataView, at: number): bigint {
  const low = view.getUint32(at, true);
  const high = view.getInt32(at + 4, true);
  if (high === 0 && low < SMALL_LIMIT) return SMALL[low + SMALL_LIMIT]!;
  if (high === -1 && low >= 0x100000000 - SMALL_LIMIT) return SMALL[low - 0x100000000 + SMALL_LIMIT]!;
  return view.getBigInt64(at, true);
}

const FLAGS = new Map<number, bigint>();

/** Section flags as a bigint, shared: an object has thousands of sections but few distinct flag sets. */
export function flagsBig(view: DataView, at: number): bigint {
  if (view.getUint32(at + 4, true) !== 0) return view.getBigUint64(at, true);
  const low = view.getUint32(at, true);
  let flags = FLAGS.get(low);
  if (flags === undefined) {
    flags = BigInt(low);
    // Bounded, so that a corrupt file with random flags cannot grow it without end.
    if (FLAGS.size < 1024) FLAGS.set(low, flags);
  }
  return flags;
}
