/**
 * GPT-2's byte-level alphabet: every byte maps to a printable character, so byte-level BPE
 * vocabularies (DeepSeek, Llama 3, Qwen) are plain strings. Both directions, built once.
 */
function build(): {toChar: string[]; toByte: Map<string, number>} {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const toChar = new Array<string>(256);
  for (const b of bs) toChar[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (toChar[b] === undefined) toChar[b] = String.fromCodePoint(256 + n++);
  return {toChar, toByte: new Map(toChar.map((c, b) => [c, b]))};
}

const table = build();
/** byte → its character in byte-level vocabularies. */
export const BYTE_TO_CHAR: readonly string[] = table.toChar;
/** character → the byte it stands for. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = table.toByte;
