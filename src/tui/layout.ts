/**
 * Which worker-table columns a terminal width gets, and how wide each is. The rule: every row fits
 * the width exactly (rows are cut, never wrapped); fixed columns keep their widths and the two
 * sparklines share what is left. Narrow terminals drop columns in this order (COLUMN_DROP_ORDER):
 *
 *   width < 100   drop HOST and the KV sparkline
 *   width <  90   drop HIT%
 *   width <  72   drop RST and WAIT
 *   width <  60   drop the tokens/s sparkline and ROLE
 *
 * ID, STATE, RUN, KV% and TOK/S are never dropped; a sparkline narrower than 4 is dropped too. Each
 * sparkline sits right of its figure (KV% then its history, TOK/S then its history), untitled. From WIDE_STATE_AT columns the state spells out
 * "down since 12:03:04 (6 s)"; below it, "down 6s". Tunables: GAP (spaces between columns),
 * SPARK_MAX (a sparkline's widest), ID_MAX/HOST_MAX (longer names are cut with "…").
 */

export type ColumnId =
  | 'id'
  | 'role'
  | 'host'
  | 'state'
  | 'running'
  | 'waiting'
  | 'kv'
  | 'kvSpark'
  | 'hitRate'
  | 'tokens'
  | 'tokSpark'
  | 'restarts';

export const COLUMN_DROP_ORDER: readonly {below: number; drop: readonly ColumnId[]}[] = [
  {below: 100, drop: ['host', 'kvSpark']},
  {below: 90, drop: ['hitRate']},
  {below: 72, drop: ['restarts', 'waiting']},
  {below: 60, drop: ['tokSpark', 'role']},
];

export const WIDE_STATE_AT = 150;
export const GAP = 2;
export const SPARK_MAX = 40;
export const ID_MAX = 24;
export const HOST_MAX = 16;
/** The selection marker ("› ") before the first column. */
export const MARKER_WIDTH = 2;

export interface Column {
  id: ColumnId;
  heading: string;
  width: number;
  align: 'left' | 'right';
}

const ORDER: readonly ColumnId[] = [
  'id',
  'role',
  'host',
  'state',
  'running',
  'waiting',
  'kv',
  'kvSpark',
  'hitRate',
  'tokens',
  'tokSpark',
  'restarts',
];

/** Headings; fixed widths leave room for the sort marker "▼" after the heading. */
const FIXED: Partial<Record<ColumnId, {heading: string; width: number; align: 'left' | 'right'}>> = {
  role: {heading: 'ROLE', width: 8, align: 'left'},
  running: {heading: 'RUN', width: 4, align: 'right'},
  waiting: {heading: 'WAIT', width: 5, align: 'right'},
  kv: {heading: 'KV%', width: 4, align: 'right'},
  hitRate: {heading: 'HIT%', width: 5, align: 'right'},
  tokens: {heading: 'TOK/S', width: 6, align: 'right'},
  restarts: {heading: 'RST', width: 4, align: 'right'},
};

export function droppedAt(width: number): Set<ColumnId> {
  return new Set(COLUMN_DROP_ORDER.filter((d) => width < d.below).flatMap((d) => d.drop));
}

/** The columns for `width`, sized to the longest id and host among `names`. */
export function planColumns(width: number, names: {ids: string[]; hosts: string[]}): Column[] {
  const dropped = droppedAt(width);
  const longest = (xs: string[]) => Math.max(0, ...xs.map((x) => [...x].length));
  const sized: Record<string, {heading: string; width: number; align: 'left' | 'right'}> = {
    ...FIXED,
    id: {heading: 'ID', width: Math.min(ID_MAX, Math.max(6, longest(names.ids))), align: 'left'},
    host: {heading: 'HOST', width: Math.min(HOST_MAX, Math.max(5, longest(names.hosts))), align: 'left'},
    state: {heading: 'STATE', width: width >= WIDE_STATE_AT ? 30 : 8, align: 'left'},
  };
  const ids = ORDER.filter((c) => !dropped.has(c));
  const sparks: ColumnId[] = ids.filter((c) => c === 'kvSpark' || c === 'tokSpark');
  const fixed = ids.filter((c) => !sparks.includes(c)).reduce((n, c) => n + sized[c]!.width, 0);
  const spare = width - MARKER_WIDTH - fixed - GAP * (ids.length - 1);
  const sparkWidth = sparks.length ? Math.min(SPARK_MAX, Math.floor(spare / sparks.length)) : 0;
  return ids
    .filter((c) => !sparks.includes(c) || sparkWidth >= 4)
    .map((c) =>
      sparks.includes(c)
        ? {id: c, heading: '', width: sparkWidth, align: 'left' as const}
        : {id: c, ...sized[c]!},
    );
}
