/**
 * Builds the worker's engine: the built-in mocker sized like the real model (KV capacity from the
 * model, tensor parallelism and GPU memory unless given, step times from its active parameters), with its KV events
 * numbered and buffered for routers, and the text it writes.
 */
import type {BlockHasher} from '../kv/block-hasher.js';
import {DynamoBlockHasher} from '../kv/dynamo-hash.js';
import {kvCapacity} from '../engines/mocker/capacity.js';
import {MockerEngine} from '../engines/mocker/engine.js';
import {KvBlockManager} from '../engines/mocker/kv-blocks.js';
import {modelScale, polynomialModel} from '../engines/mocker/perf-model.js';
import {MockScheduler} from '../engines/mocker/scheduler.js';
import {KvEventPublisher} from './kv-event-publisher.js';
import type {WorkerOptions} from './options.js';
import {type OutputText, loadOutputText} from './output-text.js';

export type MockerEngineOptions = Pick<WorkerOptions, 'model' | 'blockSize' | 'numGpuBlocks' | 'tensorParallelSize' | 'gpuMemoryGb' | 'maxNumSeqs' | 'maxNumBatchedTokens' | 'speedupRatio'>;

export interface MockerWorkerEngine {
  engine: MockerEngine;
  scheduler: MockScheduler;
  blocks: KvBlockManager;
  blocksTotal: number;
  /** The engine's block hashes (the hand-off of disaggregated serving names blocks by them). */
  hasher: BlockHasher;
  kvEvents: KvEventPublisher;
  output: OutputText;
}

/** `output` may be passed in when already loaded (it depends on the model only). */
export async function buildMockerEngine(opts: MockerEngineOptions, preloaded?: OutputText): Promise<MockerWorkerEngine> {
  // Sized even when the block count is given: an explicit TP that cannot hold the weights fails first, as vLLM would.
  const capacity = kvCapacity(opts.model, {gpuMemoryGb: opts.gpuMemoryGb, blockSize: opts.blockSize, tensorParallelSize: opts.tensorParallelSize});
  const blocksTotal = opts.numGpuBlocks ?? capacity.blocks;
  const output = preloaded ?? (await loadOutputText(opts.model));
  // KV events: numbered and buffered here, served to routers over the request plane. A new
  // subscriber starts from a snapshot of the cached blocks.
  const kvEvents: KvEventPublisher = new KvEventPublisher(() => blocks.snapshot());
  const blocks = new KvBlockManager(blocksTotal, opts.blockSize, kvEvents.sink, {presized: true});
  const hasher = await DynamoBlockHasher.create(opts.blockSize);
  const scheduler = new MockScheduler({
    blocks,
    hasher,
    maxNumSeqs: opts.maxNumSeqs,
    maxNumBatchedTokens: opts.maxNumBatchedTokens,
    perf: polynomialModel(modelScale(opts.model.activeParameters)),
  });
  return {engine: new MockerEngine(scheduler, opts.speedupRatio), scheduler, blocks, blocksTotal, hasher, kvEvents, output};
}
