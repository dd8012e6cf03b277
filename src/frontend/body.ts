/**
 * Request bodies: read within the size limit (a declared Content-Length over it is refused before
 * reading), then parsed as JSON and validated, each failure an OpenAI-shaped invalid request.
 */
import type {IncomingMessage} from 'node:http';
import type {z} from 'zod';
import {ServeError} from './errors.js';

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new ServeError('payload_too_large', `request body of ${declared} bytes exceeds the ${limit}-byte limit`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new ServeError('payload_too_large', `request body exceeds the ${limit}-byte limit`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** JSON, then the schema; the first schema issue names its field as `param`. */
export function parseBody<T>(raw: Buffer, schema: z.ZodType<T>): T {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new ServeError('invalid_request', `the body is not valid JSON: ${(e as Error).message}`);
  }
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const param = i.path.join('.') || null;
    throw new ServeError('invalid_request', `${param ? `${param}: ` : ''}${i.message}`, param);
  }
  return r.data;
}
