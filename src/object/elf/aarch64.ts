import type { RelocationType } from '../relocation-type.js';

/**
 * AArch64 ELF relocation types (ELF for the Arm 64-bit Architecture, 5.7).
 * Instruction relocations patch bits inside a 4-byte instruction; the whole
 * instruction is masked, and the type stays in the class so that `b` and `bl`
 * (JUMP26, CALL26) remain distinct.
 */
const TYPES: ReadonlyArray<readonly [number, string, RelocationType['kind'], number]> = [
  [0, 'R_AARCH64_NONE', 'other', 0],
  [257, 'R_AARCH64_ABS64', 'absolute', 8],
  [258, 'R_AARCH64_ABS32', 'absolute', 4],
  [259, 'R_AARCH64_ABS16', 'absolute', 2],
  [260, 'R_AARCH64_PREL64', 'pc-relative', 8],
  [261, 'R_AARCH64_PREL32', 'pc-relative', 4],
  [262, 'R_AARCH64_PREL16', 'pc-relative', 2],
  [273, 'R_AARCH64_LD_PREL_LO19', 'pc-relative', 4],
  [274, 'R_AARCH64_ADR_PREL_LO21', 'pc-relative', 4],
  [275, 'R_AARCH64_ADR_PREL_PG_HI21', 'page-pc-relative', 4],
  [276, 'R_AARCH64_ADR_PREL_PG_HI21_NC', 'page-pc-relative', 4],
  [277, 'R_AARCH64_ADD_ABS_LO12_NC', 'page-offset', 4],
  [278, 'R_AARCH64_LDST8_ABS_LO12_NC', 'page-offset', 4],
  [279, 'R_AARCH64_TSTBR14', 'branch', 4],
  [280, 'R_AARCH64_CONDBR19', 'branch', 4],
  [282, 'R_AARCH64_JUMP26', 'branch', 4],
  [283, 'R_AARCH64_CALL26', 'branch', 4],
  [284, 'R_AARCH64_LDST16_ABS_LO12_NC', 'page-offset', 4],
  [285, 'R_AARCH64_LDST32_ABS_LO12_NC', 'page-offset', 4],
  [286, 'R_AARCH64_LDST64_ABS_LO12_NC', 'page-offset', 4],
  [299, 'R_AARCH64_LDST128_ABS_LO12_NC', 'page-offset', 4],
  [309, 'R_AARCH64_GOT_LD_PREL19', 'got-pc-relative', 4],
  [311, 'R_AARCH64_ADR_GOT_PAGE', 'got-page', 4],
  [312, 'R_AARCH64_LD64_GOT_LO12_NC', 'got-page-offset', 4],
];

/** TLS relocations occupy 512..573; every one of them is an instruction field. Named here: those rustc emits. */
const TLS_FIRST = 512;
const TLS_LAST = 573;
const TLS_NAMES: ReadonlyMap<number, string> = new Map([
  [541, 'R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21'],
  [542, 'R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC'],
  [549, 'R_AARCH64_TLSLE_ADD_TPREL_HI12'],
  [550, 'R_AARCH64_TLSLE_ADD_TPREL_LO12'],
  [551, 'R_AARCH64_TLSLE_ADD_TPREL_LO12_NC'],
  [562, 'R_AARCH64_TLSDESC_ADR_PAGE21'],
  [563, 'R_AARCH64_TLSDESC_LD64_LO12'],
  [564, 'R_AARCH64_TLSDESC_ADD_LO12'],
  [569, 'R_AARCH64_TLSDESC_CALL'],
]);

export const AARCH64_RELOCATIONS: ReadonlyMap<number, RelocationType> = (() => {
  const table = new Map<number, RelocationType>();
  for (const [type, name, kind, width] of TYPES) table.set(type, { name, kind, width, class: name });
  for (let type = TLS_FIRST; type <= TLS_LAST; type++) {
    const name = TLS_NAMES.get(type) ?? `R_AARCH64_TLS_${type}`;
    table.set(type, { name, kind: 'tls', width: 4, class: name });
  }
  return table;
})();
