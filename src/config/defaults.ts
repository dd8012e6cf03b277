/**
 * Schema defaults and descriptions for commands whose flags mirror config keys (`frontend`,
 * `worker`, the config flags), so a default or a key's meaning is written once, in schema.ts.
 * Read from the zod schema itself (not its JSON Schema): commands are loaded on every start.
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

/** The schema's description of a config key; a key without one is a bug in schema.ts, found by the tests. */
export function configDescription(path: readonly string[]): string {
  let node: Node | undefined = configSchema as Node;
  for (const k of path) {
    // Objects sit inside .prefault({}) / .default() / .optional() wrappers.
    while (node && !node.shape && node.def.innerType) node = node.def.innerType as Node;
    node = node?.shape?.[k] as Node | undefined;
  }
  const description = node?.description;
  if (!description) throw new Error(`config key ${path.join('.')} has no description in schema.ts`);
  return description;
}
