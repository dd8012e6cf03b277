import {describe, expect, it} from 'vitest';
import {prng} from '../shared/prng.js';
import {AddedTokenSplitter} from './added-token-splitter.js';

/** What the splitter replaces: one regex of the tokens, longest first, in a capture group. */
function splitByRegex(text: string, tokens: string[]): string[] {
  const alternation = [...tokens].sort((a, b) => b.length - a.length).map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return text.split(new RegExp(`(${alternation.join('|')})`));
}

/** Random texts from pieces of the tokens (whole, cut short, back to back) and plain text around them. */
function texts(tokens: string[], seed: number, n: number): string[] {
  const rand = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const fragments = ['', ' ', 'a', 'hello world', '\n', '<', '|', '｜', '😀', '<<', '.*+?', ...tokens, ...tokens.map((t) => t.slice(0, -1)), ...tokens.map((t) => t.slice(1))];
  return Array.from({length: n}, () => Array.from({length: Math.floor(rand() * 12)}, () => pick(fragments)).join(''));
}

describe('splitting text at added tokens', () => {
  const families: Record<string, string[]> = {
    'one lead character (DeepSeek-like, one token inside another)': ['<｜User｜>', '<｜Assistant｜>', '<think>', '</think>', '<｜tool▁call▁begin｜>', '<｜tool▁calls▁begin｜>', '<|EOT|>', '<｜▁pad▁｜>'],
    'one lead character (Qwen-like)': ['<|im_start|>', '<|im_end|>', '<|endoftext|>', '<tool_call>', '</tool_call>', '<think>', '</think>'],
    'mixed lead characters (the regex path)': ['<s>', '</s>', '[INST]', '[/INST]', '▁▁', '.*'],
    'a lead character that is half a surrogate pair': ['😀x', '😀', '😁y'],
  };
  for (const [name, tokens] of Object.entries(families)) {
    it(`gives what String.split gives with the tokens' regex: ${name}`, () => {
      const splitter = new AddedTokenSplitter(tokens);
      for (const text of texts(tokens, name.length, 3000)) expect(splitter.split(text), JSON.stringify(text)).toEqual(splitByRegex(text, tokens));
    });
  }

  it('takes the longest token that starts at a place, and leaves empty text between tokens back to back', () => {
    const splitter = new AddedTokenSplitter(['<a>', '<a><b>', '<b>']);
    expect(splitter.split('<a><b><b>x<a')).toEqual(['', '<a><b>', '', '<b>', 'x<a']);
    expect(splitter.split('no tokens')).toEqual(['no tokens']);
    expect(splitter.split('')).toEqual(['']);
  });
});
