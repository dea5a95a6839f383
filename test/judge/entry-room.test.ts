import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { farJumpsWithoutRoom } from '../../src/judge/entry-room.js';
import { AARCH64_LINUX } from '../../src/targets/aarch64-linux.js';
import { X86_64_LINUX } from '../../src/targets/x86_64-linux.js';

const MIB = 1024n * 1024n;
const FROM = 0x4000_0000n;
const ROOMS = new Map([
  ['_ZN4demo3one17h0123456789abcdefE', 8],
  ['_ZN4demo4long17h0123456789abcdefE', 64],
]);
const roomOf = (name: string): number | undefined => ROOMS.get(name);

describe('room for the entry jump once a patch is placed (entry-room.ts)', () => {
  test('on aarch64 a function of two instructions takes a `b` to a patch within ±128 MiB', () => {
    const redirects = [{ name: '_ZN4demo3one17h0123456789abcdefE', from: FROM, to: FROM - 100n * MIB }];
    assert.deepEqual(farJumpsWithoutRoom(redirects, roomOf, AARCH64_LINUX), []);
  });

  test('beyond it the 16-byte veneer does not fit that function, and says so; a longer one takes it', () => {
    const redirects = [
      { name: '_ZN4demo3one17h0123456789abcdefE', from: FROM, to: FROM - 200n * MIB },
      { name: '_ZN4demo4long17h0123456789abcdefE', from: FROM + 64n, to: FROM - 200n * MIB },
    ];
    assert.deepEqual(farJumpsWithoutRoom(redirects, roomOf, AARCH64_LINUX), ['`demo::one` is 8 bytes long, too short for the 16-byte jump to its new code 200 MiB away']);
  });

  test("x86_64's jump reaches every placement a patch may have", () => {
    const redirects = [{ name: '_ZN4demo3one17h0123456789abcdefE', from: FROM, to: FROM - 1024n * MIB }];
    assert.deepEqual(farJumpsWithoutRoom(redirects, roomOf, X86_64_LINUX), []);
  });
});
