import {renderToString} from 'ink';
import {describe, expect, it} from 'vitest';
import type {TopSnapshot} from '../top/snapshot.js';
import {loadTopFixture} from './top-fixtures.test-support.js';
import {TopView} from './top-view.js';

process.env.TZ = 'UTC';

/** The healthy deployment grown to 1 frontend + 32 workers. */
function bigDeployment(): TopSnapshot {
  const [snap] = loadTopFixture('healthy-agg');
  const [frontend, worker] = snap!.sources;
  const workers = Array.from({length: 32}, (_, i) => ({...worker!, id: `agg-${i}`}));
  return {...snap!, sources: [frontend!, ...workers]};
}

const frameAt = (snap: TopSnapshot, height: number, selected: string) =>
  renderToString(<TopView snapshot={snap} width={100} height={height} color={false} selected={selected} keys />, {
    columns: 100,
  }).split('\n');

describe('TopView on a short terminal', () => {
  it('scrolls the table around the selection and never grows taller than the terminal', () => {
    const lines = frameAt(bigDeployment(), 30, 'agg-20');
    expect(lines.length).toBeLessThanOrEqual(30);
    expect(lines.some((l) => l.startsWith('› agg-20 '))).toBe(true);
    expect(lines.some((l) => /^ {2}frontend /.test(l))).toBe(false);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}… \d+ more of 33 \(↑↓ scroll\)$/));
    expect(lines.at(-1)).toMatch(/^\? help {2}q quit/);
  });

  it('gives up the detail pane before the table when both cannot fit', () => {
    const roomy = frameAt(bigDeployment(), 60, 'agg-3');
    expect(roomy.some((l) => l.startsWith('── agg-3 '))).toBe(true);
    const cramped = frameAt(bigDeployment(), 16, 'agg-3');
    expect(cramped.length).toBeLessThanOrEqual(16);
    expect(cramped.some((l) => l.startsWith('── agg-3 '))).toBe(false);
    expect(cramped.some((l) => l.startsWith('› agg-3 '))).toBe(true);
  });
});
