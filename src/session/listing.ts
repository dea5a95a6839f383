/** A short list for a one-line message: the first four items, then `…`. */
export function listed(items: readonly string[]): string {
  return items.length > 4 ? `${items.slice(0, 4).join(', ')}, …` : items.join(', ');
}
