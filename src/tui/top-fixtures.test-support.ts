/**
 * Recorded `dynamo top` snapshots for frame tests (test/fixtures/top/*.json). Each file is the
 * snapshots of one scenario in time order. History gaps are JSON null there, as they would be in a
 * `--json` document (JSON has no NaN); the views treat null and NaN alike.
 */
import {readFileSync} from 'node:fs';
import type {TopSnapshot} from '../top/snapshot.js';

export type TopFixture = 'healthy-agg' | 'worker-down-and-back' | 'vllm-url' | 'sglang-url' | 'disagg' | 'unknown-url';

export function loadTopFixture(name: TopFixture): TopSnapshot[] {
  const url = new URL(`../../test/fixtures/top/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as TopSnapshot[];
}
