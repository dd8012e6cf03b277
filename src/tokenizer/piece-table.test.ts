import {describe, expect, it} from 'vitest';
import {PieceTable} from './piece-table.js';

describe('the BPE piece table', () => {
  it('finds a piece by any slice of any text that spells it, and makes its ids once', () => {
    const made: string[] = [];
    const make = (p: string) => {
      made.push(p);
      return p.length === 1 ? p.charCodeAt(0) : Array.from(p, (c) => c.charCodeAt(0));
    };
    const t = new PieceTable(1000, 4);
    expect(t.get(' the cat', 0, 4, make)).toEqual([32, 116, 104, 101]);
    expect(t.get('in the', 2, 6, make)).toEqual([32, 116, 104, 101]);
    expect(t.get('x', 0, 1, make)).toBe(120);
    expect(t.get(' th', 0, 3, make)).toEqual([32, 116, 104]); // a prefix of a kept piece is its own piece
    expect(made).toEqual([' the', 'x', ' th']);
  });

  it('grows past its first slots and starts afresh at its bound', () => {
    const make = (p: string) => Number(p);
    const grown = new PieceTable(100_000, 4);
    for (let i = 0; i < 5000; i++) expect(grown.get(`${i}`, 0, String(i).length, make)).toBe(i);
    expect(grown.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(grown.get(`<${i}>`, 1, String(i).length + 1, () => -1)).toBe(i);
    const bounded = new PieceTable(10);
    for (let i = 0; i < 25; i++) bounded.get(`${i}`, 0, String(i).length, make);
    expect(bounded.size).toBe(5);
    expect(bounded.get('24', 0, 2, () => -1)).toBe(24);
    expect(bounded.get('3', 0, 1, () => -1)).toBe(-1); // forgotten with the rest at the bound
  });
});
