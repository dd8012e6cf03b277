/**
 * Schema defaults, descriptions and checks for commands whose flags mirror config keys
 * (`frontend`, `worker`, the config flags), so a default, a key's meaning or its range is written
 * once, in schema.ts. Read from the zod schema itself (not its JSON Schema): commands are loaded on
 * every start.
 */
import type {z} from 'zod';
import {type DynamoConfig, configSchema} from './schema.js';

let defaults: DynamoConfig | undefined;

/** The config every default makes, e.g. `configDefaults().router.ttlSecs` → 120. */
export function configDefaults(): DynamoConfig {
  // A config that sets only the one required key holds every default.
  defaults ??= configSchema.parse({model: '-'});
  return defaults;
}

type Node = z.ZodType & {shape?: Record<string, z.ZodType>; def: {innerType?: z.ZodType}};

/** The schema of one config key, e.g. ['router', 'busyKvUsage']. */
function keySchema(path: readonly string[]): Node {
  let node: Node | undefined = configSchema as Node;
  for (const k of path) {
    // Objects sit inside .prefault({}) / .default() / .optional() wrappers.
    while (node && !node.shape && node.def.innerType) node = node.def.innerType as Node;
    node = node?.shape?.[k] as Node | undefined;
  }
  if (!node) throw new Error(`config key ${path.join('.')} is not in schema.ts`);
  return node;
}

/** The schema's description of a config key; a key without one is a bug in schema.ts, found by the tests. */
export function configDescription(path: readonly string[]): string {
  const description = keySchema(path).description;
  if (!description) throw new Error(`config key ${path.join('.')} has no description in schema.ts`);
  return description;
}

/** The schema's default of a config key (undefined when it has none). */
export function configDefault(path: readonly string[]): unknown {
  let v: unknown = configDefaults();
  for (const k of path) v = (v as Record<string, unknown> | undefined)?.[k];
  return v;
}

/**
 * `value` if the config key accepts it; else throws the schema's own words ("Too big: expected
 * number to be <=1"), so a flag refuses what a config file refuses, the same way.
 */
export function checkConfigValue<T>(path: readonly string[], value: T): T {
  const r = keySchema(path).safeParse(value);
  if (!r.success) throw new Error(r.error.issues[0]?.message ?? `not a valid ${path.join('.')}`);
  return value;
}
