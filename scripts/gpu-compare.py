#!/usr/bin/env python3
"""On a GPU machine, with the built binary alone (no node there): `dynamo sanity --json` read through
NVML must agree with `nvidia-smi`, and with its own nvidia-smi path (DYNAMO_NO_NVML=1).

    python3 scripts/gpu-compare.py [path/to/dynamo]

Compares, per GPU: index, name, UUID, PCI bus id, total memory; the driver version; and the
topology verdict and P2P matrix of both paths. Prints what it compared and exits 1 on any mismatch.
On a machine without an NVIDIA driver (no nvidia-smi, or one that finds no driver or GPU) there is
nothing to compare: it prints one line saying so and exits 0, so it is safe to run anywhere.
"""
import json
import os
import subprocess
import sys

binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'dist', 'dynamo')


def sanity(no_nvml):
    env = dict(os.environ, DYN_HOME=os.environ.get('DYN_HOME', '/tmp/dynamo-gpu-compare'))
    if no_nvml:
        env['DYNAMO_NO_NVML'] = '1'
    out = subprocess.run([binary, 'sanity', '--json', '--local', '--only', 'gpu', '--thorough'], env=env, capture_output=True, text=True)
    report = json.loads(out.stdout)
    return {r['id']: r for r in report['hosts'][0]['results']}


def bus(b):
    """"00000000:18:00.0" -> "0000:18:00.0", lower case (as the project normalizes it)."""
    dom, rest = b.lower().split(':', 1)
    return f'{int(dom, 16):04x}:{rest}'


def skip(why):
    print(f'skipped: {why}')
    sys.exit(0)


def query_gpus():
    """nvidia-smi's rows, or exit 0 with the reason when this machine has no driver or GPU to compare."""
    try:
        out = subprocess.run(
            ['nvidia-smi', '--query-gpu=index,name,uuid,pci.bus_id,memory.total,driver_version', '--format=csv,noheader,nounits'],
            capture_output=True, text=True,
        )
    except FileNotFoundError:
        skip('no nvidia-smi on this machine (no NVIDIA driver)')
    # nvidia-smi's exit codes: 9 = cannot talk to the driver, 6 = no GPU found. Anything else is a real failure.
    if out.returncode == 9:
        skip('nvidia-smi cannot reach an NVIDIA driver')
    if out.returncode == 6:
        skip('nvidia-smi finds no GPU')
    if out.returncode != 0:
        print(f'nvidia-smi failed (exit {out.returncode}): {(out.stderr or out.stdout).strip()}')
        sys.exit(1)
    return out.stdout.strip().splitlines()


smi = query_gpus()
smi_rows = [[f.strip() for f in line.split(',')] for line in smi]
expected = [[int(i), name, uuid, bus(b), int(total)] for i, name, uuid, b, total, _ in smi_rows]

nvml, fallback = sanity(False), sanity(True)
problems = []
for label, res in (('NVML', nvml), ('nvidia-smi path', fallback)):
    driver = res['gpu.driver']
    if driver['status'] != 'pass':
        problems.append(f'{label}: gpu.driver {driver["status"]}: {driver["finding"]}')
        continue
    if driver['data']['driverVersion'] != smi_rows[0][5]:
        problems.append(f'{label}: driver {driver["data"]["driverVersion"]} != nvidia-smi {smi_rows[0][5]}')
    got = [[d['index'], d['name'], d['uuid'], d['pciBusId'], d['totalMiB']] for d in res['gpu.devices']['data']['devices']]
    if got != expected:
        problems.append(f'{label}: devices {got} != nvidia-smi {expected}')
    print(f'{label}: {driver["finding"]}; {res["gpu.topology"]["finding"]}')
if not problems:
    if nvml['gpu.topology']['finding'] != fallback['gpu.topology']['finding']:
        problems.append(f'topology verdicts differ: NVML "{nvml["gpu.topology"]["finding"]}" vs nvidia-smi "{fallback["gpu.topology"]["finding"]}"')
    if nvml['gpu.topology']['data']['p2p'] != fallback['gpu.topology']['data']['p2p']:
        problems.append('P2P matrices differ between NVML and nvidia-smi topo -m')
    print(f'bandwidth: {nvml["gpu.bandwidth"]["status"]}: {nvml["gpu.bandwidth"]["finding"]}')
print(json.dumps({'gpus': len(expected), 'problems': problems}))
sys.exit(1 if problems else 0)
