import {describe, expect, it} from 'vitest';
import type {SourceView} from '../top/snapshot.js';
import {nextSortKey, SORT_KEYS, type SortKey, sortSources} from './sort.js';

const src = (id: string, o: Partial<SourceView> = {}): SourceView => ({
  id,
  kind: 'dynamo-worker',
  url: `http://${id}/metrics`,
  state: 'up',
  history: {outputTokensPerS: [], kvUsage: []},
  understood: [],
  ...o,
});
const order = (xs: SourceView[], key: Parameters<typeof sortSources>[1]) => sortSources(xs, key).map((s) => s.id);

describe('sortSources', () => {
  const sources = [
    src('agg-10', {role: 'agg', outputTokensPerS: 100}),
    src('agg-2', {role: 'agg', outputTokensPerS: 300, state: 'down'}),
    src('frontend', {role: 'frontend', kind: 'dynamo-frontend'}),
    src('prefill-0', {role: 'prefill', outputTokensPerS: 100}),
  ];

  it('lists the frontend, then prefill, decode and aggregated workers, each in natural id order', () => {
    expect(order(sources, 'role')).toEqual(['frontend', 'prefill-0', 'agg-2', 'agg-10']);
    expect(order(sources, 'id')).toEqual(['agg-2', 'agg-10', 'frontend', 'prefill-0']);
  });

  it('puts the highest figure first, unknown figures last, ties by id', () => {
    expect(order(sources, 'tokens')).toEqual(['agg-2', 'agg-10', 'prefill-0', 'frontend']);
  });

  it('puts sources that are down first when sorting by state', () => {
    expect(order(sources, 'state')[0]).toBe('agg-2');
  });

  it('cycles through every key and back', () => {
    let k: SortKey = SORT_KEYS[0];
    const seen: SortKey[] = [k];
    for (let i = 1; i < SORT_KEYS.length; i++) seen.push((k = nextSortKey(k)));
    expect(seen).toEqual([...SORT_KEYS]);
    expect(nextSortKey(k)).toBe(SORT_KEYS[0]);
  });
});
