/** A catalog model as `dynamo models` shows it: one row of sizing figures in short units. */
import type {ModelInfo} from './models.js';

/** 671e9 → "671B", 6e8 → "600M". */
export const fmtParams = (n: number): string => (n >= 1e9 ? `${+(n / 1e9).toFixed(1)}B` : `${+(n / 1e6).toFixed(0)}M`);

export function modelTableRow(m: ModelInfo): Record<string, string | number> {
  return {
    alias: m.name,
    params: m.activeParameters !== m.parameters ? `${fmtParams(m.parameters)} (${fmtParams(m.activeParameters)} active)` : fmtParams(m.parameters),
    layers: m.layers,
    hidden: m.hiddenSize,
    heads: m.mla ? `${m.attentionHeads} MLA r${m.mla.kvLoraRank}` : `${m.attentionHeads}/${m.kvHeads} kv`,
    context: m.contextLength,
    'kv/token bf16': `${(m.kvBytesPerToken.bf16 / 1024).toFixed(1)} KiB`,
    hf: m.hfId,
  };
}
