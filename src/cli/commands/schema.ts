import { parseArgs } from 'node:util';
import { z } from 'zod';
import { policySchema } from '../../grants/index.ts';
import { manifestJsonSchema } from '../../manifest/index.ts';
import type { CliIO, Command } from '../io.ts';

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of plugin.yaml (or of the host policy)',
  help: `Usage: airlock schema [--policy]

Prints the JSON Schema of plugin.yaml, generated from Airlock's own schema, so
editors can complete and check manifests. Save it and point your editor at it,
e.g. for the YAML language server put this first in plugin.yaml:
  # yaml-language-server: $schema=./plugin.schema.json

Options:
  --policy   print the host policy's schema instead
  -h, --help show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseArgs({ args: argv, options: { policy: { type: 'boolean' } } });
    const schema = values.policy === true ? z.toJSONSchema(policySchema, { io: 'input', target: 'draft-7' }) : manifestJsonSchema();
    io.stdout(`${JSON.stringify(schema, null, 2)}\n`);
    return 0;
  },
};
