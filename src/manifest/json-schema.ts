import { z } from 'zod';
import { manifestSchema } from './schema.ts';

/**
 * The JSON Schema of plugin.yaml, generated from the zod schema (the input
 * side: what authors write, with defaults shown), for editors' YAML language
 * servers: `# yaml-language-server: $schema=...` or `airlock schema > plugin.schema.json`.
 */
export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(manifestSchema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
  return schema;
}
