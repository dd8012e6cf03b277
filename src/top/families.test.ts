import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {parseExposition} from './exposition.js';
import {type Figure, RECIPES, UNDERSTOOD_FAMILIES, detectKind, readingFamilies} from './families.js';

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/metrics/${name}`, import.meta.url), 'utf8');
const understood = (name: string) => [...parseExposition(fixture(name), {only: UNDERSTOOD_FAMILIES}).keys()];

describe('kind detection from the families a page exposes', () => {
  it('knows vLLM, SGLang and the Dynamo frontend by their pages', () => {
    expect(detectKind(understood('vllm.prom'))).toEqual({kind: 'vllm', dialect: 'vllm'});
    expect(detectKind(understood('sglang.prom'))).toEqual({kind: 'sglang', dialect: 'sglang'});
    expect(detectKind(understood('dynamo-frontend.prom'))).toEqual({kind: 'dynamo-frontend', dialect: 'frontend'});
  });

  it("calls our mocker's page vLLM by itself, and a Dynamo worker when the run directory says so", () => {
    expect(detectKind(understood('mocker-worker.prom'))).toEqual({kind: 'vllm', dialect: 'vllm'});
    expect(detectKind(understood('mocker-worker.prom'), 'dynamo-worker')).toEqual({kind: 'dynamo-worker', dialect: 'vllm'});
  });

  it('calls an engine page that also carries dynamo_component_* a Dynamo worker', () => {
    expect(detectKind(['vllm:num_requests_running', 'dynamo_component_requests_total'])).toEqual({kind: 'dynamo-worker', dialect: 'vllm'});
    expect(detectKind(['dynamo_component_inflight_requests'])).toEqual({kind: 'dynamo-worker', dialect: 'component'});
  });

  it('calls a page with nothing it reads unknown', () => {
    expect(detectKind(parseExposition('# TYPE node_load1 gauge\nnode_load1 0.5\n', {only: UNDERSTOOD_FAMILIES}).keys())).toEqual({kind: 'unknown'});
  });
});

describe("the recipes against what this project's processes serve", () => {
  // The fixtures are rendered from src/frontend/metrics.ts and src/engines/mocker/metrics.ts
  // (fixtures.test.ts keeps them so): a renamed metric breaks the first-choice reading here.
  const firstChoices = (dialect: 'frontend' | 'vllm', figures: Figure[]) => figures.flatMap((f) => readingFamilies(RECIPES[dialect][f]![0]!));

  it("reads every frontend figure from the frontend's own first-choice families", () => {
    const have = new Set(understood('dynamo-frontend.prom'));
    const want = firstChoices('frontend', ['running', 'waiting', 'requests', 'inputTokens', 'outputTokens', 'ttft', 'itl', 'hitRate', 'errors', 'rejected', 'routerQueue']);
    expect(want.filter((f) => !have.has(f))).toEqual([]);
  });

  it("reads every worker figure from the mocker's first-choice families (vLLM's names)", () => {
    const have = new Set(understood('mocker-worker.prom'));
    const want = firstChoices('vllm', ['running', 'waiting', 'kvUsage', 'hitRate', 'requests', 'inputTokens', 'outputTokens', 'ttft', 'itl']);
    expect(want.filter((f) => !have.has(f))).toEqual([]);
  });

  it('finds on the recorded vLLM page every family its recipe prefers', () => {
    const have = new Set(understood('vllm.prom'));
    expect(have).toEqual(
      new Set([
        'vllm:num_requests_running',
        'vllm:num_requests_waiting',
        'vllm:kv_cache_usage_perc',
        'vllm:prefix_cache_queries_total',
        'vllm:prefix_cache_hits_total',
        'vllm:prompt_tokens_total',
        'vllm:generation_tokens_total',
        'vllm:request_success_total',
        'vllm:time_to_first_token_seconds',
        'vllm:inter_token_latency_seconds',
        'vllm:time_per_output_token_seconds',
      ]),
    );
  });
});
