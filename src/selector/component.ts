/**
 * What the selector needs to know about a component file, found cheaply
 * (no compilation): present, and a component rather than a core module or
 * something else. Full validation happens when an engine loads it.
 */
import { dirname } from 'node:path';
import { isAirlockError } from '../errors.ts';
import { MAX_COMPONENT_BYTES, openPluginFile } from '../plugin-files/index.ts';
import type { ComponentStatus } from './select.ts';

const COMPONENT_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const CORE_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** `dir`: the plugin folder the component is in (default: its own folder); read with the bounded reader. */
export async function componentStatus(path: string, dir = dirname(path)): Promise<ComponentStatus> {
  let header: Buffer;
  try {
    const { handle: fh } = await openPluginFile(dir, path, {
      code: 'build-failed',
      maxBytes: MAX_COMPONENT_BYTES,
      sizeHint: 'a component this large is not a plugin',
    });
    try {
      const buf = Buffer.alloc(8);
      const { bytesRead } = await fh.read(buf, 0, 8, 0);
      header = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (isAirlockError(e))
      return e.details.reason === 'missing'
        ? { status: 'missing', reason: 'no such file' }
        : { status: 'invalid', reason: e.problems[0]?.message ?? e.message };
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'missing', reason: 'no such file' };
    return { status: 'invalid', reason: `cannot be read: ${(e as Error).message}` };
  }
  if (COMPONENT_HEADER.every((b, i) => header[i] === b)) return { status: 'ok' };
  if (CORE_HEADER.every((b, i) => header[i] === b))
    return { status: 'invalid', reason: 'a core wasm module, not a component (`airlock build` wraps it)', core: true };
  return { status: 'invalid', reason: 'not a WebAssembly component (bad header)' };
}
