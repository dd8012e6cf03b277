/**
 * Request bodies (read within the size limit by the HTTP adapter): parsed as JSON and validated,
 * each failure an OpenAI-shaped invalid request.
 */
import type {z} from 'zod';
import {ServeError} from './errors.js';

/**
 * JSON, then the schema; the first schema issue names its field as `param`. `surelyValid` may
 * vouch for a common body in one cheaper pass (plain-body.ts): the schema is then skipped.
 */
export function parseBody<T>(raw: string, schema: z.ZodType<T>, surelyValid?: (body: unknown) => boolean): T {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    throw new ServeError('invalid_request', `the body is not valid JSON: ${(e as Error).message}`);
  }
  if (surelyValid?.(body)) return body as T;
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const param = i.path.join('.') || null;
    throw new ServeError('invalid_request', `${param ? `${param}: ` : ''}${i.message}`, param);
  }
  return r.data;
}
