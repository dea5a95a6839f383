import type { ObjectSymbol, Section } from './model.js';

/**
 * Give every defined symbol the number of bytes it owns. A recorded size wins;
 * a symbol without one (all of Mach-O, some ELF labels) extends to the next
 * symbol at a higher offset in its section, or to the section end.
 */
export function computeExtents(sections: readonly Section[], symbols: ObjectSymbol[]): void {
  const bySection = new Map<number, ObjectSymbol[]>();
  for (const symbol of symbols) {
    if (symbol.section === undefined || symbol.kind === 'section' || symbol.kind === 'file') continue;
    let list = bySection.get(symbol.section);
    if (!list) bySection.set(symbol.section, (list = []));
    list.push(symbol);
  }
  for (const [sectionIndex, list] of bySection) {
    const sectionSize = sections[sectionIndex]?.size ?? 0;
    list.sort((a, b) => a.offset - b.offset);
    let next = sectionSize;
    // Walk backwards so each symbol knows the next distinct start above it.
    for (let i = list.length - 1; i >= 0; i--) {
      const symbol = list[i]!;
      const following = i + 1 < list.length && list[i + 1]!.offset > symbol.offset ? list[i + 1]!.offset : next;
      next = following;
      const gap = Math.max(0, Math.min(following, sectionSize) - symbol.offset);
      symbol.extent = symbol.size > 0 ? symbol.size : gap;
    }
  }
}
