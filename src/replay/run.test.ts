import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {resolveModel} from '../config/models.js';
import {type ReplaySettings, runReplay} from './run.js';

const FIXTURE = join(import.meta.dirname, '../../test/fixtures/traces/mooncake-conversation-head400.jsonl');

describe('runReplay', () => {
  it('says why a replay will be slow before it starts, then reports each router as it finishes', async () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'replay-run-')), 'head20.jsonl');
    writeFileSync(trace, `${readFileSync(FIXTURE, 'utf8').split('\n').slice(0, 20).join('\n')}\n`);
    const s: ReplaySettings = {
      trace,
      traceBlockSize: 512,
      speedup: 1,
      workers: 2,
      routers: ['round-robin', 'random'],
      model: resolveModel('llama-3.1-8b'),
      gpu: 'h100',
      gpuMemoryGb: 80,
      blockSize: 48, // 512 is not a multiple of 48
      maxNumSeqs: 256,
      maxNumBatchedTokens: 8192,
      overlapWeight: 1,
      temperature: 0,
      ttlSecs: 120,
      maxTreeSize: 1 << 20,
      pruneTargetRatio: 0.8,
      seed: 1,
    };
    const events: string[] = [];
    const o = await runReplay(s, {onNote: (n) => events.push(n), onRun: (r) => events.push(`ran ${r.router}`)});
    expect(events).toEqual(['note: --trace-block-size 512 is not a multiple of --block-size 48: every prompt is hashed in full (slower)', 'ran round-robin', 'ran random']);
    expect(o.requests).toBe(20);
    expect(o.runs.map((r) => r.report.completed)).toEqual([20, 20]);
  });
});
