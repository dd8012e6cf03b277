import {describe, expect, it} from 'vitest';
import type {SystemFacts} from './check.js';
import {memoizeFacts} from './facts.js';

const SYSTEM = {os: {hostname: 'h'}} as SystemFacts;

describe('memoizeFacts', () => {
  it('probes each fact once, however many checks ask and however concurrently', async () => {
    const probes = {gpu: 0, system: 0, listeners: 0};
    const facts = memoizeFacts({
      gpu: async () => {
        probes.gpu++;
        return {state: 'no-driver', reason: 'libnvidia-ml.so.1 not found'};
      },
      system: async () => {
        probes.system++;
        return SYSTEM;
      },
      listeners: async () => {
        probes.listeners++;
        return [{port: 8000, address: '0.0.0.0'}];
      },
      run: async () => ({ok: true, code: 0, stdout: '', stderr: ''}),
    });
    const answers = await Promise.all([facts.system(), facts.system(), facts.gpu(), facts.gpu(), facts.listeners()]);
    await facts.system();
    expect(probes).toEqual({gpu: 1, system: 1, listeners: 1});
    expect(answers[0]).toBe(answers[1]);
  });

  it('probes nothing nobody asks for', async () => {
    let probed = false;
    const facts = memoizeFacts({
      gpu: async () => {
        probed = true;
        return {state: 'error', reason: 'x'};
      },
      system: async () => SYSTEM,
      listeners: async () => [],
      run: async () => ({ok: true, code: 0, stdout: '', stderr: ''}),
    });
    await facts.system();
    expect(probed).toBe(false);
  });

  it('shares a failed probe too: every check that needs it sees the same error', async () => {
    let calls = 0;
    const facts = memoizeFacts({
      gpu: async () => ({state: 'error', reason: 'x'}),
      system: () => {
        calls++;
        throw new Error('si exploded');
      },
      listeners: async () => [],
      run: async () => ({ok: true, code: 0, stdout: '', stderr: ''}),
    });
    await expect(facts.system()).rejects.toThrow('si exploded');
    await expect(facts.system()).rejects.toThrow('si exploded');
    expect(calls).toBe(1);
  });
});
