import {describe, expect, it} from 'vitest';
import {fmtParams, modelTableRow} from './model-table.js';
import {resolveModel} from './models.js';

describe('dynamo models rows', () => {
  it('shows parameters in B or M, MoE with its active share, MLA with its rank, KV per token in KiB', () => {
    expect([fmtParams(671e9), fmtParams(8.03e9), fmtParams(6e8)]).toEqual(['671B', '8B', '600M']);
    expect(modelTableRow(resolveModel('deepseek-r1'))).toMatchObject({alias: 'deepseek-r1', params: '671B (37B active)', heads: '128 MLA r512', 'kv/token bf16': '68.6 KiB', hf: 'deepseek-ai/DeepSeek-R1'});
    expect(modelTableRow(resolveModel('llama-3.1-8b'))).toMatchObject({alias: 'llama-3.1-8b', params: '8B', layers: 32, heads: '32/8 kv', 'kv/token bf16': '128.0 KiB'});
  });
});
