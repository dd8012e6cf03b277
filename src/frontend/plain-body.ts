/**
 * The common chat and completion requests in one pass: a body this accepts, the schema
 * (openai-schema.ts) surely accepts too, and unchanged (its objects are loose: no defaults, no
 * transforms). Anything else, tools, content parts, router hints, fields it does not know, goes to
 * the schema, which also words the errors. Why: walking a long conversation, or a prompt of token
 * ids, through zod costs more than everything else the frontend does to the request (zod checked
 * a 584-id prompt in ~150 µs, half the frontend's CPU for it).
 */
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const orNull = (v: unknown, ok: (x: unknown) => boolean) => v === null || ok(v);
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: unknown) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const num = (min: number, max: number) => (v: unknown) => typeof v === 'number' && v >= min && v <= max;
const bool = (v: unknown) => typeof v === 'boolean';
const str = (v: unknown) => typeof v === 'string';

/** Fields both requests have. */
const COMMON: Record<string, (v: unknown) => boolean> = {
  model: (v) => typeof v === 'string' && v.length > 0,
  stream: (v) => orNull(v, bool),
  ignore_eos: (v) => orNull(v, bool),
  max_tokens: (v) => orNull(v, int(1)),
  min_tokens: (v) => orNull(v, int(0)),
  seed: (v) => orNull(v, int(Number.MIN_SAFE_INTEGER)),
  n: (v) => orNull(v, int(1, 128)),
  temperature: (v) => orNull(v, num(0, 2)),
  top_p: (v) => orNull(v, num(0, 1)),
  presence_penalty: (v) => orNull(v, num(-2, 2)),
  frequency_penalty: (v) => orNull(v, num(-2, 2)),
  user: (v) => orNull(v, str),
  stop: (v) => v === null || typeof v === 'string' || (Array.isArray(v) && v.length <= 32 && v.every(str)),
  stream_options: (v) => v === null || (isObject(v) && (v.include_usage === undefined || orNull(v.include_usage, bool))),
};

const CHAT: Record<string, (v: unknown) => boolean> = {
  ...COMMON,
  messages: (v) => Array.isArray(v) && v.length > 0 && v.every(plainMessage),
  logprobs: (v) => orNull(v, bool),
  max_completion_tokens: (v) => orNull(v, int(1)),
};

const COMPLETION: Record<string, (v: unknown) => boolean> = {
  ...COMMON,
  prompt: (v) => typeof v === 'string' || (Array.isArray(v) && v.length > 0 && (v.every(str) || tokenIds(v) || v.every((p) => Array.isArray(p) && tokenIds(p)))),
  echo: (v) => orNull(v, bool),
  logprobs: (v) => orNull(v, int(0, 5)),
  suffix: (v) => orNull(v, str),
};

/** A plain loop: the prompt may hold thousands of ids. */
function tokenIds(v: unknown[]): boolean {
  for (let i = 0; i < v.length; i++) {
    const id = v[i];
    if (!Number.isSafeInteger(id) || (id as number) < 0) return false;
  }
  return true;
}

const MESSAGE: Record<string, (v: unknown) => boolean> = {
  role: (v) => ROLES.has(v as string),
  content: (v) => orNull(v, str),
  name: str,
  tool_call_id: str,
  tool_calls: Array.isArray,
};

function plainMessage(m: unknown): boolean {
  if (!isObject(m) || !ROLES.has(m.role as string)) return false;
  for (const k in m) {
    const check = MESSAGE[k];
    // Other fields of a message (reasoning_content, …) are kept as they are, as the schema keeps them.
    if (check && !check(m[k])) return false;
  }
  return true;
}

function plainBody(body: unknown, required: string, fields: Record<string, (v: unknown) => boolean>): boolean {
  if (!isObject(body) || !(required in body) || !('model' in body)) return false;
  for (const k in body) {
    const check = fields[k];
    if (!check?.(body[k])) return false;
  }
  return true;
}

export const isPlainChatBody = (body: unknown): boolean => plainBody(body, 'messages', CHAT);
export const isPlainCompletionBody = (body: unknown): boolean => plainBody(body, 'prompt', COMPLETION);
