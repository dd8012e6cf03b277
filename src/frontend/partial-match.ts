/**
 * Streaming parsers (stop strings, reasoning tags, tool-call tags) must not emit text that may be
 * the start of a marker still arriving. This is the length of the longest tail of `text` that is a
 * proper prefix of one of `markers`: that much is held back until the next piece decides.
 */
export function heldTailLength(text: string, markers: readonly string[]): number {
  const longest = Math.max(0, ...markers.map((m) => m.length));
  for (let k = Math.min(longest - 1, text.length); k > 0; k--) {
    const tail = text.slice(-k);
    if (markers.some((m) => m.startsWith(tail))) return k;
  }
  return 0;
}
