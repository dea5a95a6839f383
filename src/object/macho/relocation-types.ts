import type { Architecture, RelocationKind } from '../model.js';

/** How an entry takes part in decoding: alone, or as the first half of a pair. */
export type RelocationRole =
  | 'single'
  | 'subtractor' // SUBTRACTOR, completed by the UNSIGNED that follows it
  | 'addend'; // ARM64_RELOC_ADDEND, carrying the addend of the entry that follows it

/** What the format allows for one relocation type, after lld's and ld64's checks. */
export interface RelocationRule {
  readonly typeName: string;
  readonly role: RelocationRole;
  readonly kind: RelocationKind;
  readonly pcRelative: boolean;
  /** Field widths in bytes (`1 << r_length`) the type may patch. */
  readonly widths: readonly number[];
  /** Whether the target may be a section (r_extern = 0) rather than a symbol. */
  readonly sectionTarget: boolean;
  /** Whether the addend is stored in the patched bytes (otherwise it is 0 or comes from ADDEND). */
  readonly addendInField: boolean;
  /** Whether an UNSIGNED of this type can complete a SUBTRACTOR pair. */
  readonly completesSubtractor: boolean;
  /** Whether an ARM64_RELOC_ADDEND may precede this type. */
  readonly acceptsAddend: boolean;
}

const X86_64_TYPES = [
  'UNSIGNED',
  'SIGNED',
  'BRANCH',
  'GOT_LOAD',
  'GOT',
  'SUBTRACTOR',
  'SIGNED_1',
  'SIGNED_2',
  'SIGNED_4',
  'TLV',
] as const;
type X86_64Type = (typeof X86_64_TYPES)[number];

const ARM64_TYPES = [
  'UNSIGNED',
  'SUBTRACTOR',
  'BRANCH26',
  'PAGE21',
  'PAGEOFF12',
  'GOT_LOAD_PAGE21',
  'GOT_LOAD_PAGEOFF12',
  'POINTER_TO_GOT',
  'TLVP_LOAD_PAGE21',
  'TLVP_LOAD_PAGEOFF12',
  'ADDEND',
] as const;
type Arm64Type = (typeof ARM64_TYPES)[number];

const POINTER: readonly number[] = [4, 8];
const INSTRUCTION: readonly number[] = [4];

/** Defaults for an ordinary single relocation; each table entry overrides what differs. */
const SINGLE = {
  role: 'single',
  sectionTarget: false,
  addendInField: false,
  completesSubtractor: false,
  acceptsAddend: false,
} as const;

/**
 * x86_64 keeps every addend in the patched bytes. SIGNED_1/2/4 mark an
 * instruction with 1, 2 or 4 immediate bytes after the displacement; their
 * stored addend carries the matching -1/-2/-4 bias.
 */
function x86_64Rule(type: X86_64Type): Omit<RelocationRule, 'typeName'> {
  const pcRelative = { ...SINGLE, pcRelative: true, widths: INSTRUCTION, addendInField: true } as const;
  switch (type) {
    case 'UNSIGNED':
      return { ...SINGLE, kind: 'absolute', pcRelative: false, widths: POINTER, sectionTarget: true, addendInField: true, completesSubtractor: true };
    case 'SIGNED':
    case 'BRANCH':
    case 'SIGNED_1':
    case 'SIGNED_2':
    case 'SIGNED_4':
      return { ...pcRelative, kind: 'pc-relative', sectionTarget: true };
    case 'GOT_LOAD':
    case 'GOT':
      return { ...pcRelative, kind: 'got-pc-relative' };
    case 'TLV':
      return { ...pcRelative, kind: 'tls' };
    case 'SUBTRACTOR':
      return { ...SINGLE, role: 'subtractor', kind: 'subtractor', pcRelative: false, widths: POINTER };
    default:
      return assertNever(type);
  }
}

/**
 * arm64 instructions have no room for an addend: it comes from a preceding
 * ADDEND entry instead. Only data (UNSIGNED, SUBTRACTOR) stores it in place.
 */
function arm64Rule(type: Arm64Type): Omit<RelocationRule, 'typeName'> {
  const instruction = { ...SINGLE, widths: INSTRUCTION } as const;
  switch (type) {
    case 'UNSIGNED':
      return { ...SINGLE, kind: 'absolute', pcRelative: false, widths: POINTER, sectionTarget: true, addendInField: true, completesSubtractor: true };
    case 'SUBTRACTOR':
      return { ...SINGLE, role: 'subtractor', kind: 'subtractor', pcRelative: false, widths: POINTER };
    case 'BRANCH26':
      return { ...instruction, kind: 'branch', pcRelative: true, acceptsAddend: true };
    case 'PAGE21':
      return { ...instruction, kind: 'page-pc-relative', pcRelative: true, acceptsAddend: true };
    case 'PAGEOFF12':
      return { ...instruction, kind: 'page-offset', pcRelative: false, acceptsAddend: true };
    case 'GOT_LOAD_PAGE21':
      return { ...instruction, kind: 'got-page', pcRelative: true };
    case 'GOT_LOAD_PAGEOFF12':
      return { ...instruction, kind: 'got-page-offset', pcRelative: false };
    case 'POINTER_TO_GOT':
      return { ...instruction, kind: 'got-pc-relative', pcRelative: true };
    case 'TLVP_LOAD_PAGE21':
      return { ...instruction, kind: 'tls', pcRelative: true };
    case 'TLVP_LOAD_PAGEOFF12':
      return { ...instruction, kind: 'tls', pcRelative: false };
    case 'ADDEND':
      // Never emitted on its own; folded into the entry that follows.
      return { ...instruction, role: 'addend', kind: 'other', pcRelative: false };
    default:
      return assertNever(type);
  }
}

/** The rule for a raw `r_type`, or undefined when the architecture defines no such type. */
export function relocationRule(architecture: Architecture, type: number): RelocationRule | undefined {
  switch (architecture) {
    case 'x86_64': {
      const name = X86_64_TYPES[type];
      return name === undefined ? undefined : { typeName: `X86_64_RELOC_${name}`, ...x86_64Rule(name) };
    }
    case 'aarch64': {
      const name = ARM64_TYPES[type];
      return name === undefined ? undefined : { typeName: `ARM64_RELOC_${name}`, ...arm64Rule(name) };
    }
    default:
      return assertNever(architecture);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled relocation case ${String(value)}`);
}
