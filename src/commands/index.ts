/** Every command, in one explicit map (oclif's explicit strategy; required for the single binary). */
import Bench from './bench.js';
import ConfigEnv from './config/env.js';
import ConfigPrint from './config/print.js';
import ConfigSchema from './config/schema.js';
import DebugTransferBench from './debug/transfer-bench.js';
import Down from './down.js';
import Frontend from './frontend.js';
import Init from './init.js';
import Logs from './logs.js';
import Models from './models.js';
import Ps from './ps.js';
import Replay from './replay.js';
import Sanity from './sanity.js';
import Tether from './tether.js';
import Top from './top.js';
import Up from './up.js';
import Worker from './worker.js';

export const COMMANDS = {
  up: Up,
  down: Down,
  frontend: Frontend,
  ps: Ps,
  logs: Logs,
  init: Init,
  models: Models,
  replay: Replay,
  bench: Bench,
  sanity: Sanity,
  top: Top,
  'config:print': ConfigPrint,
  'config:schema': ConfigSchema,
  'config:env': ConfigEnv,
  tether: Tether,
  'debug:transfer-bench': DebugTransferBench,
  worker: Worker,
};
