/** What a cell test needs to call a plugin and look at the answer: the output text, or the error code. */
import type { EnginePlugin } from '../../../src/engines/types.ts';
import { isAirlockError } from '../../../src/errors.ts';

/** The call's output (JSON text), or `error:<code>` (plus `:<pluginCode>` for a plugin-error). */
export async function answer(p: EnginePlugin, tool: string, input: unknown): Promise<string> {
  try {
    return (await p.call(tool, JSON.stringify(input))).output;
  } catch (e) {
    if (!isAirlockError(e)) throw e;
    const pluginCode = e.details.pluginCode;
    return `error:${e.code}${typeof pluginCode === 'string' ? `:${pluginCode}` : ''}`;
  }
}

/** An errno result of the filesystem probes (`"errno:<n>:<text>"`). */
export const ERRNO = /^"errno:\d+:/;
