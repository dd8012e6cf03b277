import {describe, expect, it} from 'vitest';
import {closestMatch} from './suggest.js';

describe('closestMatch', () => {
  const commands = ['up', 'down', 'ps', 'logs', 'init', 'config print', 'config schema'];
  it('suggests the command a typo was meant to be', () => {
    expect(closestMatch('dwn', commands)).toBe('down');
    expect(closestMatch('lgos', commands)).toBe('logs');
    expect(closestMatch('config prnt', commands)).toBe('config print');
  });
  it('suggests nothing for input unlike any candidate', () => {
    expect(closestMatch('kubernetes', commands)).toBeUndefined();
  });
  it('treats a prefix as a match', () => {
    expect(closestMatch('--dis', ['--disagg', '--detach'])).toBe('--disagg');
  });
});
