import type { ObjectSymbol } from '../model.js';
import type { MachOSection } from './section.js';

/**
 * Mach-O records no symbol sizes, so a symbol owns the bytes up to the next
 * symbol at a higher address in its section, or up to the section's end.
 * Symbols at one address (aliases, an `ltmp` label on a function) share the
 * extent that reaches the next distinct address.
 */
export function assignExtents(symbols: readonly ObjectSymbol[], sections: readonly MachOSection[]): void {
  const offsetsBySection = new Map<number, number[]>();
  for (const symbol of symbols) {
    if (symbol.section === undefined) continue;
    let offsets = offsetsBySection.get(symbol.section);
    if (offsets === undefined) offsetsBySection.set(symbol.section, (offsets = []));
    offsets.push(symbol.offset);
  }
  const boundaries = new Map<number, number[]>();
  for (const [section, offsets] of offsetsBySection) {
    boundaries.set(section, [...new Set(offsets)].sort((a, b) => a - b));
  }

  for (const symbol of symbols) {
    if (symbol.section === undefined) continue;
    const section = sections[symbol.section];
    const sorted = boundaries.get(symbol.section);
    if (section === undefined || sorted === undefined) continue;
    const next = sorted[firstGreater(sorted, symbol.offset)];
    symbol.extent = (next ?? section.size) - symbol.offset;
  }
}

/** Index of the first element of ascending `sorted` greater than `value` (binary search). */
function firstGreater(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] ?? Infinity) <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}
