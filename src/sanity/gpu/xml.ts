/**
 * A small, tolerant XML element reader: enough for `nvidia-smi -q -x`, which is plain elements,
 * text and a few attributes. The prolog (`<?xml …?>`), DOCTYPE (with or without an internal
 * subset), comments and processing instructions are skipped; CDATA is text; the five named entities
 * and numeric character references are decoded. What it refuses (with an `XmlError`): a document
 * without a root element, a closing tag that does not match, and input that ends inside an element
 * — the shape a truncated `nvidia-smi` capture has.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (children's text excluded), trimmed. */
  text: string;
}

export class XmlError extends Error {
  override name = 'XmlError';
}

const ENTITIES: Record<string, string> = {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'"};

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

const ATTR = /([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function parseAttrs(s: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of s.matchAll(ATTR)) attrs[m[1]!] = decode(m[2] ?? m[3] ?? '');
  return attrs;
}

/** Index just past the DOCTYPE that starts at `i` (an internal subset `[…]` may hold `>`). */
function skipDoctype(src: string, i: number): number {
  let depth = 0;
  for (let j = i; j < src.length; j++) {
    const c = src[j];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '>' && depth <= 0) return j + 1;
  }
  throw new XmlError('the document ends inside its DOCTYPE');
}

function skipPast(src: string, i: number, end: string, what: string): number {
  const j = src.indexOf(end, i);
  if (j < 0) throw new XmlError(`the document ends inside a ${what}`);
  return j + end.length;
}

export function parseXml(src: string): XmlElement {
  const stack: {el: XmlElement; text: string[]}[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? src.length : lt;
    if (textEnd > i && stack.length) stack[stack.length - 1]!.text.push(src.slice(i, textEnd));
    if (lt < 0) break;
    if (src.startsWith('<!--', lt)) {
      i = skipPast(src, lt + 4, '-->', 'comment');
    } else if (src.startsWith('<![CDATA[', lt)) {
      const end = src.indexOf(']]>', lt + 9);
      if (end < 0) throw new XmlError('the document ends inside a CDATA section');
      if (stack.length) stack[stack.length - 1]!.text.push(src.slice(lt + 9, end));
      i = end + 3;
    } else if (src.startsWith('<!', lt)) {
      i = skipDoctype(src, lt + 2);
    } else if (src.startsWith('<?', lt)) {
      i = skipPast(src, lt + 2, '?>', 'processing instruction');
    } else if (src.startsWith('</', lt)) {
      const gt = src.indexOf('>', lt);
      if (gt < 0) throw new XmlError('the document ends inside a closing tag');
      const name = src.slice(lt + 2, gt).trim();
      const open = stack.pop();
      if (!open) throw new XmlError(`</${name}> closes nothing`);
      if (open.el.name !== name) throw new XmlError(`</${name}> closes <${open.el.name}>`);
      open.el.text = decode(open.text.join('')).trim();
      i = gt + 1;
    } else {
      const gt = src.indexOf('>', lt);
      if (gt < 0) throw new XmlError('the document ends inside a tag');
      let body = src.slice(lt + 1, gt);
      const selfClosing = body.endsWith('/');
      if (selfClosing) body = body.slice(0, -1);
      const m = /^\s*([^\s/>]+)/.exec(body);
      if (!m) throw new XmlError(`an empty tag at offset ${lt}`);
      const el: XmlElement = {name: m[1]!, attrs: parseAttrs(body.slice(m[0].length)), children: [], text: ''};
      const parent = stack[stack.length - 1];
      if (parent) parent.el.children.push(el);
      else if (root) throw new XmlError(`a second root element <${el.name}>`);
      else root = el;
      if (!selfClosing) stack.push({el, text: []});
      i = gt + 1;
    }
  }
  if (stack.length) throw new XmlError(`the document ends inside <${stack[stack.length - 1]!.el.name}>`);
  if (!root) throw new XmlError('no root element');
  return root;
}

/** The first child named `name`, following a path of names ("fb_memory_usage/total"). */
export function child(el: XmlElement | undefined, path: string): XmlElement | undefined {
  let cur = el;
  for (const name of path.split('/')) {
    cur = cur?.children.find((c) => c.name === name);
    if (!cur) return undefined;
  }
  return cur;
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}
