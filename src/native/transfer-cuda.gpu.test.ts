/**
 * The transfer agent's GPU memory on a real GPU and driver (`npm run test:gpu`): the suite of
 * transfer-cuda.suite.ts, CUDA IPC between two processes included.
 */
import {describe} from 'vitest';
import {TransferAgent} from './transfer.js';
import {deviceMemorySuite} from './transfer-cuda.suite.js';

const missing = TransferAgent.cudaMissing();
describe.skipIf(missing !== undefined)(`real driver${missing ? ` (skipped: ${missing})` : ''}`, () => deviceMemorySuite('real driver'));
