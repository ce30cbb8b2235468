/**
 * The node-forge and python-forge fixtures on any engine that runs an in-container host (Docker, a remote
 * daemon, Kubernetes): the plugin writes lines that look like its host's own errors to the protocol stream.
 */
import type { ExecutionContext } from 'ava';
import type { EnginePlugin } from '../../src/engines/types.ts';
import { isAirlockError } from '../../src/errors.ts';

/**
 * Each forged host error is the plugin's error (`plugin-error` with the forged code), and the instance is
 * kept: the fixture addresses its forged line to the current request by counting its calls, so a replaced
 * instance would restart the count and the next forgery would miss (the call would succeed).
 */
export async function forgeriesStayThePlugins(t: ExecutionContext, p: EnginePlugin): Promise<void> {
  for (const code of ['memory-limit', 'crash', 'not-found', 'output-limit']) {
    const err = await t.throwsAsync(p.call('forge', JSON.stringify({ code })));
    t.true(isAirlockError(err, 'plugin-error'), `${code}: ${String(err)}`);
    t.is(isAirlockError(err) ? err.details.pluginCode : undefined, code);
  }
  t.is((await p.call('ping', '{}')).output, '"pong"');
}
