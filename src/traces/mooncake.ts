/**
 * Mooncake JSONL traces (kvcache-ai/Mooncake FAST'25): one request per line,
 *   {"timestamp": ms since start, "input_length": n, "output_length": n, "hash_ids": [int, ...]}
 * where each hash id stands for `traceBlockSize` (512) prompt tokens and ids are prefix-chained
 * (an equal id means the same block *and* the same blocks before it). Dynamo's replay also takes
 * `created_time` / `input_tokens` / `output_tokens`; so do we.
 */
import {UserError} from '../shared/errors.js';

export interface TraceRequest {
  /** Arrival, ms since the trace started. */
  arrivalMs: number;
  inputLength: number;
  outputLength: number;
  hashIds: number[];
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export function parseMooncakeTrace(text: string, source: string, traceBlockSize: number): TraceRequest[] {
  const out: TraceRequest[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const where = `${source}:${i + 1}`;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      throw new UserError(`${where}: not a JSON object`, 'a Mooncake trace has one JSON object per line');
    }
    const arrival = o.timestamp ?? o.created_time;
    const input = o.input_length ?? o.input_tokens;
    const output = o.output_length ?? o.output_tokens;
    const ids = o.hash_ids;
    if (typeof arrival !== 'number' || !Number.isFinite(arrival) || arrival < 0) throw new UserError(`${where}: "timestamp" must be a number of milliseconds ≥ 0`);
    if (!isCount(input) || input === 0) throw new UserError(`${where}: "input_length" must be a positive integer`);
    if (!isCount(output)) throw new UserError(`${where}: "output_length" must be an integer ≥ 0`);
    if (!Array.isArray(ids) || !ids.every(isCount)) throw new UserError(`${where}: "hash_ids" must be a list of integers ≥ 0`);
    if (ids.length * traceBlockSize < input) {
      throw new UserError(
        `${where}: ${ids.length} hash ids cover at most ${ids.length * traceBlockSize} tokens, but input_length is ${input}`,
        'set --trace-block-size to the tokens per hash id of this trace (512 for the public Mooncake traces)',
      );
    }
    out.push({arrivalMs: arrival, inputLength: input, outputLength: Math.max(1, output), hashIds: ids});
  }
  if (!out.length) throw new UserError(`${source}: the trace has no requests`);
  out.sort((a, b) => a.arrivalMs - b.arrivalMs); // stable: equal timestamps keep file order
  return out;
}
