import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {Registry} from '../metrics/prometheus.js';
import {prng} from '../shared/prng.js';
import {parseExposition} from './exposition.js';

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/metrics/${name}`, import.meta.url), 'utf8');
const M = 'meta-llama/Llama-3.1-8B-Instruct';

describe('parseExposition on a vLLM page (prometheus_client format)', () => {
  const page = fixture('vllm.prom');
  const all = parseExposition(page);

  it('names counters by their _total name and reads exponent values', () => {
    const prompt = all.get('vllm:prompt_tokens_total')!;
    expect(prompt.type).toBe('counter');
    expect(prompt.help).toBe('Number of prefill tokens processed.');
    // On the wire: 1.833644e+06 (prometheus_client's Go-style float).
    expect(prompt.samples).toEqual([{name: 'vllm:prompt_tokens_total', labels: {engine: '0', model_name: M}, value: 1833644}]);
  });

  it('drops _created samples and the _created gauge families beside counters and histograms', () => {
    expect([...all.keys()].filter((k) => k.includes('created'))).toEqual([]);
    expect(all.get('vllm:prefix_cache_hits_total')!.samples).toHaveLength(1);
  });

  it('groups a histogram under its base name with every bucket, +Inf included, then _count and _sum', () => {
    const ttft = all.get('vllm:time_to_first_token_seconds')!;
    expect(ttft.type).toBe('histogram');
    const buckets = ttft.samples.filter((s) => s.name.endsWith('_bucket'));
    expect(buckets).toHaveLength(23);
    expect(buckets[0]!.labels).toEqual({engine: '0', le: '0.001', model_name: M});
    expect(buckets.at(-1)!.labels.le).toBe('+Inf');
    const count = ttft.samples.find((s) => s.name.endsWith('_count'))!.value;
    expect(buckets.at(-1)!.value).toBe(count);
    expect(count).toBe(1204);
    // A histogram whose own name ends in _total stays a histogram.
    expect(all.get('vllm:iteration_tokens_total')!.type).toBe('histogram');
  });

  it('reads summaries, label sets of five keys and gauges written with exponents', () => {
    expect(all.get('http_request_size_bytes')!.type).toBe('summary');
    expect(all.get('python_info')!.samples[0]!.labels).toEqual({implementation: 'CPython', major: '3', minor: '12', patchlevel: '11', version: '3.12.11'});
    expect(all.get('process_virtual_memory_bytes')!.samples[0]!.value).toBe(52712824832);
  });

  it('with a filter, parses only the families asked for, identically', () => {
    const only = new Set(['vllm:num_requests_running', 'vllm:time_to_first_token_seconds', 'vllm:request_success_total', 'nope']);
    const some = parseExposition(page, {only});
    expect([...some.keys()].sort()).toEqual(['vllm:num_requests_running', 'vllm:request_success_total', 'vllm:time_to_first_token_seconds']);
    for (const [k, f] of some) expect(f).toEqual(all.get(k));
    expect(some.get('vllm:request_success_total')!.samples.map((s) => s.labels.finished_reason)).toEqual(['stop', 'length', 'abort']);
  });
});

describe('parseExposition on the other recorded pages', () => {
  it('reads an SGLang page (multiprocess mode: no _created)', () => {
    const f = parseExposition(fixture('sglang.prom'));
    expect(f.get('sglang:num_running_reqs')!.samples[0]!.value).toBe(24);
    expect(f.get('sglang:num_requests_total')!.type).toBe('counter');
    expect(f.get('sglang:inter_token_latency_seconds')!.samples.filter((s) => s.name.endsWith('_bucket'))).toHaveLength(24);
  });

  it("reads this project's frontend page, le after the other labels", () => {
    const f = parseExposition(fixture('dynamo-frontend.prom'));
    const req = f.get('dynamo_frontend_requests_total')!;
    expect(req.samples.reduce((a, s) => a + s.value, 0)).toBe(240);
    expect(req.samples.find((s) => s.labels.error_type === 'overload')!.labels).toMatchObject({status: 'error', request_type: 'unknown'});
    expect(f.get('dynamo_frontend_time_to_first_token_seconds')!.samples[0]!.labels).toEqual({model: 'qwen3-0.6b', le: '0.001'});
  });
});

describe('parseExposition against our own exposer on random pages', () => {
  it('reads back every value and label set the registry wrote, filtered or not', () => {
    const rnd = prng(20261112);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const pieces = ['a', 'Z', '0', ' ', '"', '\\', '\n', '{', '}', ',', '=', '#', 'é', '模型', '/', ':'];
    const text = (n: number) => Array.from({length: n}, () => pick(pieces)).join('');
    const values = [0, 1, -1, 0.5, 1e-9, 1.7e9, 123456789.125, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (let page = 0; page < 30; page++) {
      const r = new Registry();
      const expected = new Map<string, {labels: Record<string, string>; value: number}[]>();
      for (let f = 0; f < 8; f++) {
        const name = `fam_${page}_${f}${pick(['', ':x', '_y'])}`;
        const g = r.gauge(name, 'Random series.');
        const series: {labels: Record<string, string>; value: number}[] = [];
        for (let k = 0; k < 4; k++) {
          const labels = Object.fromEntries(Array.from({length: Math.floor(rnd() * 3)}, (_, i) => [`l${i}`, text(Math.floor(rnd() * 8))]));
          const value = pick(values);
          g.set(labels, value);
          series.push({labels, value});
        }
        // The registry keeps the last value per label set, in first-set order.
        const last = new Map<string, {labels: Record<string, string>; value: number}>();
        for (const x of series) last.set(JSON.stringify(Object.entries(x.labels).sort()), x);
        expected.set(name, [...last.values()]);
      }
      const all = parseExposition(r.render());
      for (const [name, series] of expected) {
        expect(all.get(name)!.samples.map((x) => ({labels: x.labels, value: x.value}))).toEqual(series);
      }
      const only = new Set([...expected.keys()].filter(() => rnd() < 0.4));
      const some = parseExposition(r.render(), {only, labelCache: new Map()});
      expect(new Set(some.keys())).toEqual(only);
      for (const k of only) expect(some.get(k)).toEqual(all.get(k));
    }
  });
});

describe('parseExposition on the edges of the format', () => {
  it('unescapes quotes, backslashes and newlines in label values exactly as our exposer escapes them', () => {
    const r = new Registry();
    const odd = ['say "hi"', 'C:\\dir\\', 'two\nlines', 'a\\"b', 'comma, {brace} = sign', ''];
    const g = r.gauge('odd_labels', 'Help with a \\ backslash.');
    for (const [i, v] of odd.entries()) g.set({v}, i);
    const f = parseExposition(r.render()).get('odd_labels')!;
    expect(f.samples.map((s) => s.labels.v)).toEqual(odd);
    expect(f.samples.map((s) => s.value)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('reads +Inf, -Inf, NaN, exponents, timestamps, CRLF, a trailing comma and an empty label set', () => {
    const text = [
      '# TYPE x gauge',
      'x{a="1",} +Inf',
      'x{a="2"} -Inf 1700000000000',
      'x{a="3"} NaN',
      'x{a="4"} 1.5e-3',
      'x{ a = "5" } 2E+2',
      'x{} 7',
      'x 8\r',
      '',
    ].join('\n');
    const s = parseExposition(text).get('x')!.samples;
    expect(s.map((x) => x.value)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 0.0015, 200, 7, 8]);
    expect(s.map((x) => x.labels)).toEqual([{a: '1'}, {a: '2'}, {a: '3'}, {a: '4'}, {a: '5'}, {}, {}]);
  });

  it('names an OpenMetrics-style counter (TYPE without _total) by its _total samples and drops its _created', () => {
    const text = '# HELP reqs Requests.\n# TYPE reqs counter\nreqs_total{code="200"} 3\nreqs_created{code="200"} 1.7e9\n';
    const f = parseExposition(text, {only: new Set(['reqs_total'])}).get('reqs_total')!;
    expect(f).toEqual({name: 'reqs_total', type: 'counter', help: 'Requests.', samples: [{name: 'reqs_total', labels: {code: '200'}, value: 3}]});
  });

  it('keeps samples without a TYPE line as untyped families and skips malformed lines', () => {
    const text = ['plain 1', 'broken{a="1" 2', 'novalue', 'bad{a=1} 3', 'words here', '  # indented comment', 'plain{b="x"} 4', '# TYPE h histogram', 'h_bucket{le="1"} 1', 'h_bucket{le="+Inf"} 2', 'h_count 2', 'h_sum 1.5', 'after_h 9'].join('\n');
    const f = parseExposition(text);
    expect(f.get('plain')).toEqual({name: 'plain', type: 'untyped', samples: [{name: 'plain', labels: {}, value: 1}, {name: 'plain', labels: {b: 'x'}, value: 4}]});
    expect([...f.keys()]).toEqual(['plain', 'h', 'after_h']);
    expect(f.get('h')!.samples.map((s) => s.name)).toEqual(['h_bucket', 'h_bucket', 'h_count', 'h_sum']);
  });

  it('does not mistake a family whose name extends the current one for its samples', () => {
    const text = '# TYPE a gauge\na 1\n# TYPE a_bucket_count gauge\na_bucket_count 2\n';
    const f = parseExposition(text, {only: new Set(['a_bucket_count'])});
    expect(f.get('a_bucket_count')!.samples).toEqual([{name: 'a_bucket_count', labels: {}, value: 2}]);
    expect(f.has('a')).toBe(false);
  });

  it('takes HELP before or after TYPE', () => {
    const f = parseExposition('# TYPE a gauge\n# HELP a After.\na 1\n# HELP b Before.\n# TYPE b gauge\nb 2\n');
    expect([f.get('a')!.help, f.get('b')!.help]).toEqual(['After.', 'Before.']);
  });

  it('returns nothing for a page that is not an exposition', () => {
    expect(parseExposition('<html><body>Not found</body></html>\n').size).toBe(0);
    expect(parseExposition('').size).toBe(0);
  });
});
