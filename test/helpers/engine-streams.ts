/** A worker's stream from an engine, cancelled after its first chunk: what came after, and how it ended. */
import type {TokenChunk} from '../../src/engines/token-io.js';

export async function abortMidStream(stream: AsyncGenerator<TokenChunk>, abort: AbortController): Promise<{ended: Promise<'done'>; got: () => number}> {
  await stream.next();
  abort.abort();
  // Chunks already read may still come; then the stream ends with the abort.
  let got = 0;
  const ended = (async () => {
    for (;;) {
      const r = await stream.next();
      if (r.done) return 'done' as const;
      got += r.value.tokenIds.length;
    }
  })();
  return {ended, got: () => got};
}
