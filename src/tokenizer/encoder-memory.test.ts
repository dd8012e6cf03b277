/**
 * The encoder's caches keep what they key by, not the prompts it came from: a short segment or a
 * new word cached as a slice of a long prompt would keep the whole prompt alive.
 */
import {getHeapStatistics, setFlagsFromString} from 'node:v8';
import {runInNewContext} from 'node:vm';
import {expect, it} from 'vitest';
import {resolveModel} from '../config/models.js';
import {loadTokenizerFiles} from './bundled.js';
import {PromptEncoder} from './encoder.js';
import {Vocab} from './vocab.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

it("keeps no long prompt alive through a short segment's or a new word's cache entry", async () => {
  const files = await loadTokenizerFiles(resolveModel('deepseek-r1'));
  const encoder = await PromptEncoder.create(files.tokenizerJson, Vocab.fromJson(files.tokenizerJson));
  const history = 'the model serves requests with a cache of blocks '.repeat(2000);
  // Each prompt is a new ~100k-character string: the same long history (one cache entry), then an
  // added token and a short segment of its own with a new word in it.
  const prompt = (i: number) => `${history}<｜User｜>question ${i} about zq${i.toString(36)}x`;
  await encoder.encode(prompt(0));
  gc();
  const before = getHeapStatistics().used_heap_size;
  for (let i = 1; i <= 200; i++) await encoder.encode(prompt(i));
  gc();
  const held = getHeapStatistics().used_heap_size - before;
  // 200 prompts are ~40 MB (two bytes a character: `｜` is wider than Latin-1); what is cached of them, a few hundred KB.
  expect(held).toBeLessThan(4_000_000);
  expect(encoder.stats.cachedSegments).toBeGreaterThanOrEqual(200);
});
