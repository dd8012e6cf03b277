/**
 * The transfer agent's GPU memory on every machine: the suite (transfer-cuda.suite.ts) against the
 * stand-in driver test/fixtures/fake-libcuda.c, loaded through DYNAMO_LIBCUDA (read when this
 * process first opens the driver). transfer-cuda.gpu.test.ts runs the same suite on a real GPU.
 */
import {describe} from 'vitest';
import {fakeLibcuda} from '../../test/helpers/fake-cuda.js';
import {native} from './index.js';
import {deviceMemorySuite} from './transfer-cuda.suite.js';

process.env.DYNAMO_LIBCUDA = fakeLibcuda();

describe.skipIf(!native)('stand-in driver', () => deviceMemorySuite('stand-in driver'));
