import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ElfImage } from '../../src/object/elf/image.js';
import { LiveSymbols } from '../../src/patch/live-symbols.js';

const LOAD_BIAS = 0x5555_0000_0000n;

/** A program with one function, `step`, at 0x1000. */
function program(): ElfImage {
  return {
    path: 'app',
    symbols: new Map([['step', { address: 0x1000n, size: 32, kind: 'function' }]]),
    ambiguous: new Set(),
    imports: new Set(),
    buildId: 'aa',
    loadSegments: [],
    relro: undefined,
    tls: undefined,
    staticTls: false,
  };
}

describe('the entries a new copy of a function is reached from', () => {
  test('the original and the latest copies, so that a patch writes a bounded number of jumps however many came before', () => {
    const live = new LiveSymbols(program(), LOAD_BIAS);
    const copies: bigint[] = [];
    for (let patch = 1; patch <= 30; patch++) {
      const entries = live.entriesOf('step');
      assert.equal(entries[0], 0x1000n + LOAD_BIAS, 'the original is always redirected');
      assert.deepEqual(entries.slice(1), copies.slice(-8), `before patch ${patch}`);
      const address = 0x7000_0000n + BigInt(patch) * 0x1_0000n;
      copies.push(address);
      live.addPatch(new Map([['step', { address, kind: 'function', size: 32 }]]));
    }
  });

  test('every older copy still reaches the newest, through the copies that came after it', () => {
    // Simulates the jumps: each patch makes each entry it redirects jump to its own copy.
    const live = new LiveSymbols(program(), LOAD_BIAS);
    const jumps = new Map<bigint, bigint>();
    const copies: bigint[] = [];
    for (let patch = 1; patch <= 50; patch++) {
      const address = 0x7000_0000n + BigInt(patch) * 0x1_0000n;
      for (const entry of live.entriesOf('step')) jumps.set(entry, address);
      live.addPatch(new Map([['step', { address, kind: 'function', size: 32 }]]));
      copies.push(address);
    }
    const newest = copies.at(-1)!;
    for (const start of [0x1000n + LOAD_BIAS, ...copies]) {
      let at = start;
      let hops = 0;
      while (jumps.has(at)) {
        at = jumps.get(at)!;
        hops++;
      }
      assert.equal(at, newest, `from 0x${start.toString(16)}`);
      assert.ok(hops <= 50 / 8 + 1, `${hops} jumps from 0x${start.toString(16)}`);
    }
  });
});
