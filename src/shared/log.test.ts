import {afterEach, describe, expect, it, vi} from 'vitest';
import {logger} from './log.js';

describe('logger', () => {
  afterEach(() => vi.restoreAllMocks());
  it('prints messages at or above the level and drops the rest', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      lines.push(String(s));
      return true;
    });
    const log = logger({DYN_LOG_LEVEL: 'warn'});
    log.info('hidden');
    log.debug('hidden too');
    log.warn('shown');
    log.error('also shown');
    expect(lines).toEqual(['warn: shown\n', 'error: also shown\n']);
    expect(logger({DYN_LOG_LEVEL: 'debug'}).enabled('debug')).toBe(true);
  });
});
