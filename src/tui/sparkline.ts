/**
 * Sparklines from a source's `history`: the last `width` values, oldest left, one block character
 * each (▁▂▃▄▅▆▇█). A value that is not a finite number (NaN while the source was down, or null once
 * a snapshot went through JSON) is a gap: a space. Fewer values than `width` are padded on the left,
 * so the newest value is always in the last column.
 *
 * Scale: 0 to `max` when given (KV usage: 1), otherwise 0 to the largest visible value, so a flat
 * line of zeros stays at the floor and a lone spike is full height.
 */

export const SPARK_BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

export function sparkline(values: readonly (number | null)[], width: number, max?: number): string {
  if (width <= 0) return '';
  const shown = values.slice(-width);
  const finite = shown.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const top = max ?? Math.max(0, ...finite);
  const cells = shown.map((v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return ' ';
    if (top <= 0) return SPARK_BLOCKS[0];
    const level = Math.round((Math.min(Math.max(v, 0), top) / top) * (SPARK_BLOCKS.length - 1));
    return SPARK_BLOCKS[level]!;
  });
  return ' '.repeat(width - cells.length) + cells.join('');
}
