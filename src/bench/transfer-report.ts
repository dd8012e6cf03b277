/**
 * The report of `dynamo debug transfer-bench`: the rows of the transfer benchmark
 * (src/native/transfer-bench.ts) with its targets as one record, the verdict in words, and why
 * the cuda rows are missing when they are (no driver, no GPU).
 */
import {type TransferBenchRow, runTransferBench, transferBenchTable, transferBenchTargets} from '../native/transfer-bench.js';
import {TransferAgent} from '../native/transfer.js';

export type TransferBackendName = TransferBenchRow['backend'];

export interface TransferBenchRecord {
  bench: 'transfer';
  rows: TransferBenchRow[];
  targets: ReturnType<typeof transferBenchTargets>;
}

const worst = (x: number | undefined) => (x === undefined ? 'not measured' : `worst ${(100 * x).toFixed(0)} %`);

/** "shm at ≥ 1 MiB vs memcpy: worst 93 %; ucx …: met" — the targets in one line. */
export function transferVerdict(t: TransferBenchRecord['targets']): string {
  return `shm at ≥ 1 MiB vs memcpy: ${worst(t.shmAtLeast1MiB)}; ucx at ≥ 1 MiB vs shm: ${worst(t.ucxOfShmAtLeast1MiB)} (targets ≥ 80 %): ${t.met ? 'met' : 'NOT met'}`;
}

export interface TransferBenchReport {
  record: TransferBenchRecord;
  /** Table, verdict, why cuda was not measured, and the record as JSON for the notes. */
  text(): string;
}

/**
 * The record, and its text on demand: `cudaMissing` (a probe that opens the driver) is asked only
 * for the text, and only when no cuda row ran. cuda rows compare with the driver's own copy of the
 * same ranges on one stream, not memcpy.
 */
export function transferBenchReport(rows: TransferBenchRow[], cudaMissing: () => string | undefined): TransferBenchReport {
  const record: TransferBenchRecord = {bench: 'transfer', rows, targets: transferBenchTargets(rows)};
  const text = () => {
    const noGpu = rows.some((r) => r.backend === 'cuda') ? undefined : cudaMissing();
    const gpu = noGpu ? `\ncuda: not measured (${noGpu})` : '';
    return `${transferBenchTable(rows)}\n\n${transferVerdict(record.targets)}${gpu}\n\n${JSON.stringify(record)}`;
  };
  return {record, text};
}

/** Runs the benchmark on this machine and reports it. */
export function runTransferBenchReport(opts: {backends?: TransferBackendName[]; msPerRow: number}): TransferBenchReport {
  return transferBenchReport(runTransferBench(opts), () => TransferAgent.cudaMissing());
}
