/** Test support for src/trust: a copy of the echo-js fixture (its component is cached by content) and file edits. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../../src/errors.ts';
import type { EngineProvider, OpenedPlugin } from '../../src/provider/index.ts';
import { tempDir } from '../helpers/plugin.ts';

export const FIXTURE = new URL('../../fixtures/plugins/echo-js/', import.meta.url).pathname;

/** A fresh copy of echo-js in a temp folder (same content, so the same cached component). */
export function echoCopy(prefix = 'airlock-trust-'): string {
  const dir = join(tempDir(prefix), 'echo-js');
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** Replaces `from` with `to` in a plugin file (throws when `from` is not there: an edit that did nothing proves nothing). */
export function edit(dir: string, file: string, from: string, to: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} has no ${JSON.stringify(from)}`);
  writeFileSync(path, text.replace(from, to));
}

/** Engines that open nothing: a load reaching them fails with `engine-unavailable` ("reached the engines"), so a trust check that passed is told apart from one that refused, without a build. */
export class NoEngines implements EngineProvider {
  opens = 0;
  async open(): Promise<OpenedPlugin> {
    this.opens++;
    throw new AirlockError('engine-unavailable', 'reached the engines');
  }
  async close(): Promise<void> {}
}
