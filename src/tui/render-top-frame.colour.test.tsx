import {describe, expect, it} from 'vitest';
import type {TopSnapshot} from '../top/snapshot.js';
import {loadTopFixture} from './top-fixtures.test-support.js';

// Ink's chalk decides once, at import, whether to colour: force it on before loading the views, as
// a colour terminal would, to show that `color: false` alone keeps escape codes out.
process.env.FORCE_COLOR = '1';
process.env.TZ = 'UTC';
const {renderTopFrame} = await import('./render-top-frame.js');

const ESC = '\u001b';
const RED = `${ESC}[31m`;
const YELLOW = `${ESC}[33m`;
const GREEN = `${ESC}[32m`;

const [down] = loadTopFixture('worker-down-and-back') as [TopSnapshot];

describe('colours', () => {
  it('colour the state (down red, up green) and high KV usage (yellow from 80%) on a colour terminal', () => {
    const frame = renderTopFrame(down, {width: 120, color: true});
    expect(frame).toContain(`${RED}down 6s`);
    expect(frame).toContain(`${GREEN}up`);
    const sglang = renderTopFrame(loadTopFixture('sglang-url')[0]!, {width: 120, color: true});
    expect(sglang).toContain(`${RED} 97%`);
    const vllm = renderTopFrame(loadTopFixture('vllm-url')[0]!, {width: 120, color: true});
    expect(vllm).toContain(`${YELLOW} 83%`);
  });

  it('stay out of the frame entirely with color false, even where the terminal forces colour', () => {
    for (const snap of [down, ...loadTopFixture('healthy-agg')]) {
      expect(renderTopFrame(snap, {width: 120, color: false, selected: 'agg-2'})).not.toContain(ESC);
    }
  });

  it('leave the same text once the escape codes are stripped', () => {
    const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
    const plain = renderTopFrame(down, {width: 80, color: false});
    expect(strip(renderTopFrame(down, {width: 80, color: true}))).toBe(plain);
  });
});

describe('painted lines', () => {
  it('carry the escape codes Ink’s <Text> would give the same styles, so the frame reads the same', async () => {
    const React = await import('react');
    const {renderToString, Text} = await import('ink');
    const {paintLine} = await import('./line.js');
    const {FrameText} = await import('./top-view.js');
    for (const color of [undefined, 'red', 'green', 'yellow', 'gray'] as const) {
      for (const bold of [false, true]) {
        for (const inverse of [false, true]) {
          const ink = renderToString(
            React.createElement(Text, null, 'a ', React.createElement(Text, {color, bold, inverse}, 'styled'), ' z'),
            {columns: 20},
          );
          const ours = renderToString(
            React.createElement(FrameText, {lines: [paintLine([{text: 'a '}, {text: 'styled', color, bold, inverse}, {text: ' z'}], 20, true)]}),
            {columns: 20},
          );
          expect(ours, `${color} bold=${bold} inverse=${inverse}`).toBe(ink);
        }
      }
    }
  });
});
