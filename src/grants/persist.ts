/**
 * Writes a policy's `revoked:` section back to its YAML file, keeping the
 * rest of the file as written (comments included), through a temporary file
 * renamed over it, so a crash leaves the old policy or the new one.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { AirlockError } from '../errors.ts';
import type { Revocations } from './revoke.ts';

export function persistRevocations(file: string, revoked: Revocations): void {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(file, 'utf8');
    mode = statSync(file).mode & 0o777;
  } catch (err) {
    throw new AirlockError('invalid-policy', `cannot read the host policy ${file} to record the change`, { cause: err });
  }
  const doc = parseDocument(text);
  const kept = Object.fromEntries(Object.entries(revoked).filter(([, r]) => (r.network?.length ?? 0) + (r.filesystem?.length ?? 0) + (r.env?.length ?? 0) > 0));
  if (Object.keys(kept).length === 0) doc.delete('revoked');
  else doc.set('revoked', doc.createNode(kept));
  const temp = `${file}.airlock-${process.pid}.tmp`;
  try {
    writeFileSync(temp, doc.toString(), { mode });
    renameSync(temp, file);
  } catch (err) {
    throw new AirlockError('invalid-policy', `cannot write the host policy ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
