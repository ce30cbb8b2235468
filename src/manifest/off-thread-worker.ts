/**
 * Entry of the manifest worker (src/manifest/off-thread.ts): checks plugin
 * folders one request at a time with the same validatePlugin the CLI and
 * tests call directly, and sends the result back as plain data.
 */
import { parentPort } from 'node:worker_threads';
import { AirlockError } from '../errors.ts';
import type { ManifestReply, ManifestRequest, SerializedValidation } from '../protocol.ts';
import { validatePlugin } from './load.ts';

function serialize(path: string): SerializedValidation {
  const result = validatePlugin(path);
  if (!result.ok) return result;
  const { source, ...plugin } = result.plugin;
  return { ok: true, plugin: { ...plugin, positions: source.positions } };
}

parentPort?.on('message', (msg: ManifestRequest) => {
  if (msg === null || typeof msg !== 'object' || msg.kind !== 'validate' || typeof msg.id !== 'number' || typeof msg.path !== 'string') return;
  let reply: ManifestReply;
  try {
    reply = { kind: 'validated', id: msg.id, result: serialize(msg.path) };
  } catch (err) {
    const error = err instanceof AirlockError ? err : new AirlockError('internal', `checking ${msg.path}: ${err instanceof Error ? err.message : String(err)}`);
    reply = { kind: 'failed', id: msg.id, error: error.toJSON() };
  }
  parentPort?.postMessage(reply);
});
