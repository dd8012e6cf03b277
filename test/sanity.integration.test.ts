// `dynamo sanity` end to end on the built binary: this machine as it is (no GPU, no driver), the
// recorded boxes through a fake nvidia-smi first on PATH with NVML switched off, deployment verdicts,
// a port held by a real process, and SSH hosts checked by the same binary over loopback sshds: one
// with dynamoPath, one without, which gets this build shipped to its own home as `dynamo up` does.
import {type ChildProcess, spawn, spawnSync} from 'node:child_process';
import {existsSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {closeSshMasters} from '../src/process/child.js';
import {type SanityReport, sanityReportSchema} from '../src/sanity/report.js';
import {sshControlDirOf} from '../src/supervisor/run-dir.js';
import {binaryIdOf, shippedPath} from '../src/supervisor/ship.js';
import {dynamo} from './helpers/cli.js';
import {BINARY, freePort, requireBinary, tempDir, until} from './helpers/processes.js';
import {type LoopbackSshd, type TestHost, requireSshd, startSshd, startTestHost} from './helpers/sshd.js';

const FAKE_BIN = join(import.meta.dirname, 'fixtures/bin');

/** Env for a run that sees `box` through the fake nvidia-smi and no NVML. */
function onBox(box: string): Record<string, string> {
  return {PATH: `${FAKE_BIN}:${process.env.PATH}`, FAKE_NVIDIA_SMI_BOX: box, DYNAMO_NO_NVML: '1', DYN_HOME: tempDir()};
}

async function sanity(args: string[], env: Record<string, string> = {DYN_HOME: tempDir()}, cwd?: string) {
  const r = await dynamo(['sanity', '--json', ...args], {env, cwd});
  expect(r.stderr, r.stderr).not.toMatch(/\n\s+at /);
  const report: SanityReport = sanityReportSchema.parse(JSON.parse(r.stdout));
  const result = (id: string, host = 'local') => report.hosts.find((h) => h.host === host)?.results.find((x) => x.id === id);
  return {exitCode: r.exitCode, report, result};
}

describe('dynamo sanity', () => {
  requireBinary();
  requireSshd();

  it('on this machine: every GPU check says why it skipped, nothing crashes, and the exit code follows the failures', async () => {
    const {exitCode, report, result} = await sanity(['--local']);
    const gpu = report.hosts[0]!.results.filter((x) => x.area === 'gpu');
    expect(gpu.length).toBeGreaterThanOrEqual(6);
    for (const x of gpu) expect([x.id, x.status]).toEqual([x.id, 'skip']);
    expect(result('gpu.driver')!.finding).toMatch(/no NVIDIA driver/);
    expect(result('system.os')!.status).toBe('pass');
    expect(exitCode).toBe(report.summary.failed > 0 ? 1 : 0);
    expect(report.ok).toBe(report.summary.failed === 0);

    const text = await dynamo(['sanity', '--local'], {env: {DYN_HOME: tempDir()}});
    expect(text.stdout).toMatch(/^local \(/);
    expect(text.stdout).toMatch(/├─ system\n/);
    expect(text.stdout).toMatch(/– NVIDIA driver: no NVIDIA driver/);
    expect(text.stdout).toMatch(/\d+ passed, \d+ warnings?, \d+ failed, \d+ skipped in [\d.]+ s\n?$/);
  });

  it('--print-schema prints the JSON Schema the --json report follows', async () => {
    const r = await dynamo(['sanity', '--print-schema']);
    expect(r.exitCode).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.title).toBe('dynamo sanity report');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['version', 'ok', 'summary', 'hosts']));
  });

  it.each([
    ['h100-sxm-8', '8 × H100 80GB HBM3, all-to-all NVLink (18 links)'],
    ['a100-pcie-4-nvlink-pairs', '4 × A100 80GB PCIe in NVLink pairs (0-1, 2-3): tensor parallel > 2 crosses PCIe'],
    ['two-socket-4', '4 × L40S (45 GiB) under 2 CPU sockets (0-1 | 2-3): tensor parallel > 2 crosses the CPU interconnect'],
    ['l4-1', '1 × L4 (23 GiB), no NVLink'],
  ])('reads %s through nvidia-smi when NVML is not there: %s', async (box, verdict) => {
    const {result} = await sanity(['--local', '--only', 'gpu'], onBox(box));
    expect(result('gpu.driver')!.finding).toMatch(/read through nvidia-smi/);
    expect(result('gpu.topology')).toMatchObject({status: 'pass', finding: verdict});
  });

  it('a driver too old for the engine fails with the driver to install', async () => {
    const {exitCode, result} = await sanity(['--local', '--only', 'gpu', '--engine', 'vllm'], onBox('old-driver'));
    expect(result('gpu.cuda')).toMatchObject({
      status: 'fail',
      finding: 'driver 470.199.02 supports CUDA 11.4; vLLM 0.33.0 needs CUDA ≥ 13.0',
      fix: 'upgrade the NVIDIA driver to ≥ 580.65.06 (the first with CUDA 13.0)',
    });
    expect(exitCode).toBe(1);
  });

  it.each([
    ['old-driver', 'mocker', 'skip', /^the mocker needs no CUDA; driver 470\.199\.02 supports CUDA 11\.4 \(vLLM, SGLang and TensorRT-LLM need ≥ 13\.0\)$/],
    ['h100-sxm-8', 'sglang', 'fail', /^driver 550\.54\.15 supports CUDA 12\.4; SGLang 0\.5\.23 needs CUDA ≥ 13\.0$/],
    ['l4-1', 'trtllm', 'fail', /^driver 560\.35\.03 supports CUDA 12\.6; TensorRT-LLM 1\.4\.0rc2 needs CUDA ≥ 13\.0$/],
  ])('on %s the CUDA the driver must support follows --engine %s: %s', async (box, engine, status, finding) => {
    const {result} = await sanity(['--local', '--only', 'gpu', '--engine', engine], onBox(box));
    expect(result('gpu.cuda')).toMatchObject({status, finding: expect.stringMatching(finding)});
  });

  it('without a driver, --engine vllm fails gpu.driver naming vLLM, where the mocker only skips', async () => {
    const {exitCode, result} = await sanity(['--local', '--only', 'gpu', '--engine', 'vllm']);
    expect(result('gpu.driver')).toMatchObject({status: 'fail', finding: 'no NVIDIA driver: vLLM 0.33.0 needs one with CUDA ≥ 13.0', fix: expect.stringMatching(/--engine mocker/)});
    expect(exitCode).toBe(1);
    const text = await dynamo(['sanity', '--local', '--only', 'gpu', '--engine', 'vllm'], {env: {DYN_HOME: tempDir()}});
    expect(text.stdout).not.toMatch(/mocker needs none/);
  });

  it('DeepSeek-R1 on vLLM does not fit 8 × H100 80GB, and the verdict says what would', async () => {
    const auto = await sanity(['--local', '--only', 'deployment', '--model', 'deepseek-r1', '--engine', 'vllm', '--workers', '1'], onBox('h100-sxm-8'));
    expect(auto.result('deployment.fit')).toMatchObject({status: 'fail', finding: expect.stringMatching(/^deepseek-r1 \(\d+ GiB of FP8 weights\) does not fit 8 × H100 80GB HBM3/)});
    expect(auto.result('deployment.fit')!.fix).toMatch(/H200/);
    expect(auto.exitCode).toBe(1);
    // Asked for TP 8 explicitly: the per-GPU arithmetic.
    const tp8 = await sanity(['--local', '--only', 'deployment', '--model', 'deepseek-r1', '--engine', 'vllm', '--tp', '8', '--workers', '1'], onBox('h100-sxm-8'));
    expect(tp8.result('deployment.fit')).toMatchObject({status: 'fail', finding: expect.stringMatching(/^deepseek-r1 at TP 8 needs [\d.]+ GiB per GPU .*H100 80GB HBM3 offers/)});
  });

  it('llama-3.1-70b at TP 1 on one H100 is told the TP it needs; at TP 8 on the box it fits on NVLink', async () => {
    const one = await sanity(['--local', '--only', 'deployment', '--model', 'llama-3.1-70b', '--engine', 'vllm', '--tp', '1', '--workers', '1'], onBox('h100-sxm-8'));
    expect(one.result('deployment.fit')).toMatchObject({status: 'fail', fix: expect.stringMatching(/--tp 2/)});
    const eight = await sanity(['--local', '--only', 'deployment', '--model', 'llama-3.1-70b', '--engine', 'vllm', '--tp', '8', '--workers', '1'], onBox('h100-sxm-8'));
    expect(eight.result('deployment.fit')!.status).toBe('pass');
    expect(eight.result('deployment.tp-nvlink')!.status).toBe('pass');
  });

  it('--engine vllm without vLLM installed is ❌ with the install command', async () => {
    const {result} = await sanity(['--local', '--only', 'deployment', '--model', 'qwen3-0.6b', '--engine', 'vllm', '--workers', '1'], onBox('l4-1'));
    expect(result('deployment.engine')).toMatchObject({status: 'fail', finding: expect.stringMatching(/vllm is not installed/), fix: expect.stringMatching(/pip install vllm/)});
  });

  describe('a port the deployment needs is held', () => {
    let holder: ChildProcess | undefined;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      holder = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening'))`], {stdio: ['ignore', 'pipe', 'inherit']});
      let said = '';
      holder.stdout!.on('data', (c) => (said += c));
      await until(() => said.includes('listening'), 10_000, 'the port holder to listen');
    });
    afterAll(() => holder?.kill('SIGKILL'));

    it('names the process that holds it, and the flag that moves the frontend', async () => {
      const {exitCode, result} = await sanity(['--local', '--only', 'deployment', '--model', 'qwen3-0.6b', '--port', String(port)]);
      expect(result('deployment.ports')).toMatchObject({status: 'fail', finding: expect.stringContaining(`port ${port} (frontend http) is in use by pid ${holder!.pid} (node)`)});
      expect(result('deployment.ports')!.fix).toMatch(/--port/);
      expect(exitCode).toBe(1);
    });
  });

  describe('SSH hosts of the config', () => {
    let sshd: LoopbackSshd;
    beforeAll(async () => {
      sshd = await startSshd(BINARY);
    });
    afterAll(() => sshd?.stop());

    it('runs the same binary on each host over SSH and reports its results under the host name', async () => {
      const cwd = tempDir();
      const h = sshd.host;
      writeFileSync(
        join(cwd, 'dynamo.config.yaml'),
        [
          'model: qwen3-0.6b',
          'hosts:',
          `  gpu1: {address: ${h.address}, port: ${h.port}, user: ${h.user}, identityFile: ${h.identityFile}, knownHostsFile: ${h.knownHostsFile}, dynamoPath: ${h.dynamoPath}}`,
          'workers:',
          '  agg: {count: 1, hosts: [gpu1]}',
          '',
        ].join('\n'),
      );
      const {report, result} = await sanity(['--only', 'system,deployment'], {DYN_HOME: tempDir()}, cwd);
      expect(report.hosts.map((x) => x.host)).toEqual(['local', 'gpu1']);
      expect(result('system.os', 'gpu1')!.status).toBe('pass');
      // The host judged the worker placed on it: its two ports, not the frontend's.
      expect(result('deployment.ports', 'gpu1')).toMatchObject({status: 'pass', finding: expect.stringMatching(/^ports 8100, 8101 are free/)});
      expect(result('deployment.ports', 'local')!.finding).toMatch(/8000/);
    });

    describe('a host without dynamoPath', () => {
      let host: TestHost;
      const dynHome = tempDir();
      beforeAll(async () => {
        host = await startTestHost(`dynsan${process.pid % 10000}`, '127.0.0.4');
      });
      afterAll(async () => {
        if (host) await closeSshMasters([host.sshd.host], sshControlDirOf(dynHome));
        await host?.remove();
      });

      it('gets this very build shipped to ~/.dynamo/bin, as `dynamo up` does, and is checked by it', async () => {
        const cwd = tempDir();
        writeFileSync(join(cwd, 'dynamo.config.yaml'), ['model: qwen3-0.6b', 'hosts:', `  gpu2: ${host.yaml()}`, 'workers:', '  agg: {count: 1, hosts: [gpu2]}', ''].join('\n'));
        const copy = join(host.home, shippedPath(await binaryIdOf(BINARY)));
        expect(existsSync(copy)).toBe(false);
        const {report, result} = await sanity(['--only', 'system,deployment'], {DYN_HOME: dynHome}, cwd);
        expect(report.hosts.map((x) => x.host)).toEqual(['local', 'gpu2']);
        expect(existsSync(copy)).toBe(true);
        expect(result('system.os', 'gpu2')!.status).toBe('pass');
        expect(result('deployment.ports', 'gpu2')!.finding).toMatch(/^ports 8100, 8101 are free/);
        // The second run finds the build there and runs it again.
        const again = await sanity(['--only', 'system'], {DYN_HOME: dynHome}, cwd);
        expect(again.result('system.os', 'gpu2')!.status).toBe('pass');
      }, 120_000);
    });

    it('a host that refuses SSH is one failed line with the fix, and the others still report', async () => {
      const cwd = tempDir();
      const dead = await freePort();
      writeFileSync(
        join(cwd, 'dynamo.config.yaml'),
        ['model: qwen3-0.6b', 'hosts:', `  gone: {address: 127.0.0.1, port: ${dead}, dynamoPath: ${BINARY}}`, 'workers:', '  agg: {count: 1, hosts: [gone]}', ''].join('\n'),
      );
      const {exitCode, report, result} = await sanity(['--only', 'system'], {DYN_HOME: tempDir()}, cwd);
      expect(report.hosts.map((x) => x.host)).toEqual(['local', 'gone']);
      expect(result('remote.ssh', 'gone')).toMatchObject({status: 'fail', fix: expect.stringMatching(/ssh/)});
      expect(result('system.os', 'local')!.status).toBe('pass');
      expect(exitCode).toBe(1);
    });
  });

  it('scripts/gpu-compare.py says in one line that it skipped where there is no driver, and exits 0', async () => {
    const script = join(import.meta.dirname, '..', 'scripts', 'gpu-compare.py');
    // python3 by its full path, so that PATH holds no nvidia-smi (even on a GPU machine), or the fake one first.
    const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {encoding: 'utf8'}).stdout.trim();
    const run = (path: string) => spawnSync(python, [script, BINARY], {encoding: 'utf8', env: {...process.env, PATH: path, FAKE_NVIDIA_SMI_BOX: ''}});
    const noSmi = run(tempDir());
    expect([noSmi.status, noSmi.stdout, noSmi.stderr]).toEqual([0, 'skipped: no nvidia-smi on this machine (no NVIDIA driver)\n', '']);
    // nvidia-smi installed but no driver to talk to (the fake, with no box, exits 9 as the real one does).
    const noDriver = run(`${FAKE_BIN}:/usr/bin:/bin`);
    expect([noDriver.status, noDriver.stdout]).toEqual([0, 'skipped: nvidia-smi cannot reach an NVIDIA driver\n']);
  });

  it('bad input is a clear error, never a stack trace', async () => {
    const area = await dynamo(['sanity', '--only', 'gpus']);
    expect(area.exitCode).toBe(2);
    expect(area.stderr).toMatch(/--only/);
    const model = await dynamo(['sanity', '--model', 'no-such-model', '--local'], {env: {DYN_HOME: tempDir()}});
    expect(model.exitCode).toBe(1);
    expect(model.stderr).toMatch(/no-such-model/);
    expect(model.stderr).not.toMatch(/\n\s+at /);
  });
});
