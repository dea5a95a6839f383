import type { AgentConnection } from '../deliver/agent-connection.js';
import type { ElfImage } from '../object/elf/image.js';
import { LiveSymbols } from '../patch/live-symbols.js';

const KIB = 1024n;
const MIB = 1024n * KIB;
/** Patches stack downwards from 64 MiB below the image: within reach of x86_64's rel32, and of aarch64's BL for a program of up to 64 MiB. */
const FIRST_GAP = 64n * MIB;
/** Where patches start; their segments are aligned to 8 KiB (see `link.ts`). */
const PATCH_ALIGNMENT = 64n * KIB;
/** Beyond its sections, a linked patch has headers, dynamic tables, a GOT and padding between segments. */
const LINK_SLACK = 256n * KIB;

/** One patched process: its addresses, and where its next patch goes. */
export class ProcessState {
  readonly live: LiveSymbols;
  readonly appliedPatches = new Set<number>();
  private nextTop: bigint;

  constructor(
    readonly connection: AgentConnection,
    image: ElfImage,
    /** The target's `patchReach`: how far from the program a patch may lie. */
    private readonly reach: bigint,
  ) {
    this.live = new LiveSymbols(image, connection.loadBias);
    this.nextTop = alignDown(connection.imageStart - FIRST_GAP);
  }

  get pid(): number {
    return this.connection.pid;
  }

  /**
   * A base for a patch whose sections take `size` bytes once loaded (its
   * zero-filled data included), below the previous one. Every patch must
   * stay within reach of 32-bit displacements from the whole image; taking
   * only what each needs leaves room for thousands of them.
   */
  reserve(size: number): bigint {
    const span = alignUp(BigInt(size) + LINK_SLACK);
    const base = alignDown(this.nextTop - span);
    if (this.connection.imageEnd - base > this.reach) {
      throw new Error(`no address range left within ${this.reach / 1024n / MIB} GiB of the program for another patch; restart the app`);
    }
    this.nextTop = base;
    return base;
  }

  /** Later patches go below `address`: a patch an earlier session loaded starts there. */
  reserveBelow(address: bigint): void {
    const top = alignDown(address);
    if (top < this.nextTop) this.nextTop = top;
  }
}

function alignDown(value: bigint): bigint {
  return value - (value % PATCH_ALIGNMENT);
}

function alignUp(value: bigint): bigint {
  return ((value + PATCH_ALIGNMENT - 1n) / PATCH_ALIGNMENT) * PATCH_ALIGNMENT;
}
