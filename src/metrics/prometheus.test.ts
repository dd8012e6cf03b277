import {describe, expect, it} from 'vitest';
import {Registry, logBuckets} from './prometheus.js';

describe('Registry', () => {
  it('renders counters, gauges and histograms in the text exposition format', () => {
    const r = new Registry();
    r.counter('vllm:prompt_tokens_total', 'Prompt tokens.').inc({model_name: 'm', engine: 0}, 5);
    r.gauge('vllm:num_requests_running', 'Running.').set({model_name: 'm', engine: 0}, 2);
    const h = r.histogram('vllm:time_to_first_token_seconds', 'TTFT.', [0.1, 1]);
    h.observe({model_name: 'm'}, 0.05);
    h.observe({model_name: 'm'}, 0.5);
    const text = r.render();
    expect(text).toContain('# TYPE vllm:prompt_tokens_total counter\nvllm:prompt_tokens_total{engine="0",model_name="m"} 5');
    expect(text).toContain('vllm:num_requests_running{engine="0",model_name="m"} 2');
    expect(text).toContain('vllm:time_to_first_token_seconds_bucket{model_name="m",le="0.1"} 1');
    expect(text).toContain('vllm:time_to_first_token_seconds_bucket{model_name="m",le="+Inf"} 2');
    expect(text).toContain('vllm:time_to_first_token_seconds_sum{model_name="m"} 0.55');
  });

  it('bound series count into the same series as labelled calls, and appear only once observed', () => {
    const r = new Registry();
    const c = r.counter('requests_total', 'Requests.');
    const g = r.gauge('running', 'Running.');
    const h = r.histogram('ttft_seconds', 'TTFT.', [0.1, 1]);
    const bc = c.bind({model: 'm', status: 'ok'});
    const bg = g.bind({model: 'm'});
    const bh = h.bind({model: 'm'});
    expect(r.render()).not.toContain('ttft_seconds_count');
    bc.inc();
    c.inc({status: 'ok', model: 'm'}, 2);
    bg.set(3);
    bg.dec();
    bh.observe(0.5);
    h.observe({model: 'm'}, 0.05);
    const text = r.render();
    expect(text).toContain('requests_total{model="m",status="ok"} 3');
    expect(text).toContain('running{model="m"} 2');
    expect(text).toContain('ttft_seconds_bucket{model="m",le="0.1"} 1');
    expect(text).toContain('ttft_seconds_count{model="m"} 2');
  });

  it('makes log-spaced buckets like Dynamo (TTFT 1 ms … 480 s, 18 buckets)', () => {
    const b = logBuckets(0.001, 480, 18);
    expect(b[0]).toBe(0.001);
    expect(b.at(-1)).toBe(480);
    expect(b).toHaveLength(18);
  });
});
