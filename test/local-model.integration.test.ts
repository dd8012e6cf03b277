import {join} from 'node:path';
import OpenAI from 'openai';
import {describe, expect, it} from 'vitest';
import {startUntil} from './helpers/cli.js';
import {ROOT, freePort, freePortRange, requireBinary, tempDir} from './helpers/processes.js';

describe('dynamo up --model <local directory>', () => {
  requireBinary();
  it('serves a model directory with its own tokenizer and chat template', async () => {
    const dir = join(ROOT, 'test/fixtures/tiny-model');
    const port = await freePort();
    const up = await startUntil(['up', '--model', dir, '--workers', '1', '--port', String(port), '--name', 'local'], /ready in/, {
      env: {DYN_HOME: tempDir(), DYN_WORKERS_BASE_PORT: String(await freePortRange(2))},
      // Below the test's own time-out, so a slow start fails with what `up` printed.
      timeoutMs: 50_000,
    });
    try {
      const client = new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0});
      expect((await client.models.list()).data[0]!.id).toBe(dir);
      const r = await client.chat.completions.create({model: dir, messages: [{role: 'user', content: 'the people of the time'}], max_tokens: 8});
      // ChatML in this vocabulary: 3 special tokens, "user" 4 bytes, "\n" ×3, "the" 3 bytes (no
      // leading space), " people"/" of"/" the"/" time" one token each, "assistant" 9 bytes = 26.
      expect(r.usage!.prompt_tokens).toBe(26);
      expect(r.choices[0]!.message.content).toMatch(/^[A-Z][a-z]+( [A-Za-z.,]+)+$/);
    } finally {
      up.child.kill('SIGTERM');
      await up.child;
    }
  }, 90_000);
});
