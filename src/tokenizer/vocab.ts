/**
 * The id → bytes side of a Hugging Face tokenizer.json, in plain JS: detokenizing one token at a
 * time is on every stream's hot path, and a synchronous table lookup beats a round trip into the
 * native tokenizer per token. Supports byte-level BPE (GPT-2 style, as DeepSeek, Llama 3, Qwen use)
 * and Metaspace/byte-fallback vocabularies (SentencePiece style).
 */
import {CHAR_TO_BYTE} from './byte-level.js';

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

const utf8 = new TextEncoder();
/** Decodes only whole, valid UTF-8: throws on anything else. */
const strictUtf8 = new TextDecoder('utf-8', {fatal: true});

export class Vocab {
  readonly idToBytes: (Uint8Array | undefined)[] = [];
  readonly tokenToId = new Map<string, number>();
  readonly special = new Set<number>();
  readonly added: AddedToken[];
  /** Per id, filled on first use: the token's text when its bytes are whole UTF-8 characters on their own, else null. */
  private readonly texts: (string | null | undefined)[];

  constructor(json: {model: {type?: string; vocab: Record<string, number> | [string, number][]}; added_tokens?: AddedToken[]; decoder?: {type?: string; decoders?: {type?: string}[]} | null}) {
    const byteLevel = json.decoder?.type === 'ByteLevel' || json.decoder?.decoders?.some((d) => d.type === 'ByteLevel');
    const table = byteLevel ? CHAR_TO_BYTE : undefined;
    const entries: [string, number][] = Array.isArray(json.model.vocab) ? json.model.vocab.map(([t], i) => [t, i]) : Object.entries(json.model.vocab);
    for (const [token, id] of entries) {
      this.tokenToId.set(token, id);
      this.idToBytes[id] = table ? Uint8Array.from([...token].map((ch) => table.get(ch) ?? 63)) : metaspaceBytes(token);
    }
    this.added = (json.added_tokens ?? []).map((t) => ({id: t.id, content: t.content, special: t.special}));
    for (const t of this.added) {
      this.tokenToId.set(t.content, t.id);
      this.idToBytes[t.id] = utf8.encode(t.content);
      if (t.special) this.special.add(t.id);
    }
    this.texts = new Array(this.idToBytes.length);
  }

  /** The token's text when its bytes are whole UTF-8 characters (most tokens), else null (part of a character). */
  wholeText(id: number): string | null {
    let text = this.texts[id];
    if (text === undefined) {
      const bytes = this.idToBytes[id];
      try {
        text = bytes ? strictUtf8.decode(bytes) : null;
      } catch {
        text = null;
      }
      this.texts[id] = text;
    }
    return text;
  }

  static fromJson(text: string): Vocab {
    return new Vocab(JSON.parse(text));
  }

  get size(): number {
    return this.idToBytes.length;
  }

  /** The id of a token string, e.g. an EOS token's content. */
  id(token: string): number | undefined {
    return this.tokenToId.get(token);
  }
}

function metaspaceBytes(token: string): Uint8Array {
  const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
  if (m) return Uint8Array.of(Number.parseInt(m[1]!, 16));
  return utf8.encode(token.replace(/▁/g, ' '));
}

/**
 * Turns a stream of token ids into text, emitting only complete UTF-8 characters (a multi-byte
 * character may span tokens) and skipping special tokens, like vLLM's skip_special_tokens.
 */
export class IncrementalDetokenizer {
  private pending: number[] = [];
  /** Only for tokens that hold part of a character (the common token's text is the vocabulary's, decoded once). */
  private decoder?: InstanceType<typeof TextDecoder>;

  constructor(
    private readonly vocab: Vocab,
    private readonly skipSpecial = true,
  ) {}

  push(id: number): string {
    if (this.skipSpecial && this.vocab.special.has(id)) return '';
    const bytes = this.vocab.idToBytes[id];
    if (!bytes) return '';
    if (!this.pending.length) {
      const whole = this.vocab.wholeText(id);
      if (whole !== null) return whole;
    }
    for (const b of bytes) this.pending.push(b);
    // Emit up to the last complete UTF-8 sequence.
    let end = this.pending.length;
    let i = end - 1;
    let cont = 0;
    while (i >= 0 && (this.pending[i]! & 0xc0) === 0x80 && cont < 3) {
      i--;
      cont++;
    }
    if (i >= 0) {
      const lead = this.pending[i]!;
      const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (need > cont + 1) end = i;
    }
    if (end === 0) return '';
    const text = this.decode(this.pending.slice(0, end));
    this.pending = this.pending.slice(end);
    return text;
  }

  flush(): string {
    if (!this.pending.length) return '';
    const text = this.decode(this.pending);
    this.pending = [];
    return text;
  }

  private decode(bytes: number[]): string {
    this.decoder ??= new TextDecoder('utf-8', {fatal: false});
    return this.decoder.decode(Uint8Array.from(bytes));
  }
}
