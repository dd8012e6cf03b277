import {describe, expect, it} from 'vitest';
import {COLUMN_DROP_ORDER, GAP, MARKER_WIDTH, planColumns} from './layout.js';

const names = {ids: ['frontend', 'agg-0', 'agg-1'], hosts: ['local', 'gpu-node-2']};
const ids = (width: number) => planColumns(width, names).map((c) => c.id);
const used = (width: number) => {
  const cols = planColumns(width, names);
  return MARKER_WIDTH + cols.reduce((n, c) => n + c.width, 0) + GAP * (cols.length - 1);
};

describe('planColumns', () => {
  it('shows every column from 100 columns on', () => {
    expect(ids(120)).toEqual(['id', 'role', 'host', 'state', 'running', 'waiting', 'kv', 'kvSpark', 'hitRate', 'tokens', 'tokSpark', 'restarts']);
  });

  it('drops columns in the stated order as the terminal narrows', () => {
    expect(ids(95)).toEqual(['id', 'role', 'state', 'running', 'waiting', 'kv', 'hitRate', 'tokens', 'tokSpark', 'restarts']);
    expect(ids(80)).toEqual(['id', 'role', 'state', 'running', 'waiting', 'kv', 'tokens', 'tokSpark', 'restarts']);
    expect(ids(65)).toEqual(['id', 'role', 'state', 'running', 'kv', 'tokens', 'tokSpark']);
    expect(ids(50)).toEqual(['id', 'state', 'running', 'kv', 'tokens']);
    for (const {below, drop} of COLUMN_DROP_ORDER) {
      for (const c of drop) {
        expect(ids(below)).toContain(c);
        expect(ids(below - 1)).not.toContain(c);
      }
    }
  });

  it('fills no more than the width, giving the sparklines what is left', () => {
    for (const width of [50, 60, 72, 80, 90, 100, 120, 150, 200]) expect(used(width)).toBeLessThanOrEqual(width);
    const spark = (w: number) => planColumns(w, names).find((c) => c.id === 'tokSpark')!.width;
    expect(spark(200)).toBeGreaterThan(spark(120));
  });

  it('spells the state out from 150 columns', () => {
    const state = (w: number) => planColumns(w, names).find((c) => c.id === 'state')!.width;
    expect(state(149)).toBe(8);
    expect(state(150)).toBe(30);
  });
});
