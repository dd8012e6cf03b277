/**
 * The zod twin of snapshot.ts: the schema of `dynamo top --json` (printed by `--print-schema`) and
 * a check, at compile time, that it describes the TypeScript contract exactly.
 */
import {z} from 'zod';
import type {TopSnapshot} from './snapshot.js';

const percentiles = z.object({p50: z.number().optional(), p90: z.number().optional(), p99: z.number().optional()});

const source = z.object({
  id: z.string(),
  kind: z.enum(['dynamo-frontend', 'dynamo-worker', 'vllm', 'sglang', 'unknown']),
  url: z.string(),
  role: z.enum(['frontend', 'agg', 'prefill', 'decode']).optional(),
  host: z.string().optional(),
  state: z.enum(['up', 'down', 'starting']),
  downSince: z.number().optional().describe('epoch ms of the first failed scrape of this outage'),
  error: z.string().optional(),
  restarts: z.number().int().optional(),
  running: z.number().optional(),
  waiting: z.number().optional(),
  kvUsage: z.number().optional().describe('0–1'),
  hitRate: z.number().optional().describe('0–1, prefix-cache hits / queries over the window'),
  requestsPerS: z.number().optional(),
  inputTokensPerS: z.number().optional(),
  outputTokensPerS: z.number().optional(),
  ttftMs: percentiles.optional(),
  itlMs: percentiles.optional(),
  history: z.object({outputTokensPerS: z.array(z.number().nullable()), kvUsage: z.array(z.number().nullable())}),
  understood: z.array(z.string()),
  logFile: z.string().optional(),
});

export const topSnapshotSchema = z.object({
  at: z.number().describe('epoch ms'),
  intervalS: z.number(),
  windowS: z.number(),
  paused: z.boolean(),
  deployment: z.object({name: z.string(), model: z.string(), url: z.string(), startedAt: z.number()}).optional(),
  totals: z.object({
    requestsPerS: z.number().optional(),
    inputTokensPerS: z.number().optional(),
    outputTokensPerS: z.number().optional(),
    inFlight: z.number().optional(),
    queued: z.number().optional(),
    ttftMs: percentiles.optional(),
    itlMs: percentiles.optional(),
    hitRate: z.object({router: z.number().optional(), workers: z.number().optional()}),
    errorsPerS: z.number().optional(),
    rejectedPerS: z.number().optional(),
  }),
  routerQueue: z.number().optional(),
  disagg: z.object({transferTokensPerS: z.number().optional(), transferQueue: z.number().optional()}).optional(),
  sources: z.array(source),
  warnings: z.array(z.object({at: z.number(), text: z.string()})),
});

// Both directions: the schema and the contract cannot drift apart unnoticed.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: Same<z.infer<typeof topSnapshotSchema>, TopSnapshot> = true;
void sameShape;

/** JSON Schema of `dynamo top --json`. */
export function topSnapshotJsonSchema(): Record<string, unknown> {
  return {$schema: 'https://json-schema.org/draft/2020-12/schema', title: 'dynamo top snapshot', ...z.toJSONSchema(topSnapshotSchema, {io: 'output'})};
}
