// An "infinitely fast" OpenAI-style streaming server (no delays) for `npm run bench:loadgen`:
// prints its base URL, serves until killed.
import {startSseServer} from '../src/bench/sse-server.js';

const s = await startSseServer();
process.stdout.write(`${s.url}\n`);
process.on('SIGTERM', () => void s.close().then(() => process.exit(0)));
