import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {MODEL_ALIASES, catalogModels, resolveModel} from './models.js';

describe('model catalog', () => {
  it('has the aliases users ask for', () => {
    for (const a of ['deepseek-r1', 'deepseek-r1-distill-llama-8b', 'llama-3.1-8b', 'llama-3.1-70b', 'qwen3-0.6b', 'qwen3-32b']) {
      expect(MODEL_ALIASES).toContain(a);
    }
  });

  it('computes KV bytes per token from the architecture (GQA and MLA)', () => {
    // Llama-3.1-8B: 2 × 32 layers × 8 KV heads × 128 × 2 bytes = 128 KiB per token in bf16.
    expect(resolveModel('llama-3.1-8b').kvBytesPerToken.bf16).toBe(131072);
    expect(resolveModel('llama-3.1-70b').kvBytesPerToken.fp8).toBe(163840);
    // DeepSeek-R1 MLA: 61 layers × (512 + 64) × 2 bytes.
    expect(resolveModel('deepseek-r1').kvBytesPerToken.bf16).toBe(70272);
  });

  it('gives every model the figures sizing needs', () => {
    for (const m of catalogModels()) {
      expect(m.layers).toBeGreaterThan(0);
      expect(m.contextLength).toBeGreaterThanOrEqual(32768);
      expect(m.kvBytesPerToken.fp16).toBe(2 * m.kvBytesPerToken.fp8);
    }
  });

  it('suggests the nearest alias for a misspelt model', () => {
    expect(() => resolveModel('deepsek-r1')).toThrow(/did you mean "deepseek-r1"/);
  });

  it('reads a local Hugging Face model directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dyn-model-'));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({model_type: 'llama', num_hidden_layers: 2, hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 2048, vocab_size: 1000}),
    );
    writeFileSync(join(dir, 'tokenizer.json'), '{}');
    writeFileSync(join(dir, 'tokenizer_config.json'), '{}');
    const m = resolveModel(dir);
    expect(m.path).toBe(dir);
    expect(m.headDim).toBe(16);
    expect(m.kvBytesPerToken.fp16).toBe(2 * 2 * 2 * 16 * 2);
    expect(m.contextLength).toBe(2048);
  });

  it('says which files a model directory lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dyn-model-'));
    writeFileSync(join(dir, 'config.json'), '{}');
    expect(() => resolveModel(dir)).toThrow(/lacks tokenizer.json, tokenizer_config.json/);
  });
});
