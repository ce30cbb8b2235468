/**
 * The worker's side of ./glue-file.ts: the plugin's glue, as a classic
 * script with V8's code cache when the host wrote one (an earlier worker's
 * compiled `instantiate` and call path, so this worker neither parses 258 KB
 * nor compiles the functions a first call needs), else imported as a module.
 */
import { readCodeCache, writeCodeCache } from '../../code-cache.ts';
import { AirlockError } from '../../errors.ts';
import type { WasmPluginData } from '../../protocol.ts';
import type { GlueScript } from './glue-file.ts';
import type { InstantiateFn } from './types.ts';

// Not `import ... from 'node:fs'`: an ES import of a builtin evaluates all its exports, and fs's pull in
// fs/promises, streams, readline and REPL history (14 more modules in every standby worker).
const { readFileSync } = process.getBuiltinModule('node:fs');
const { Script } = process.getBuiltinModule('node:vm');

export interface LoadedGlue {
  instantiate: InstantiateFn;
  /** True when V8 took the code cache: this thread compiled none of what an earlier worker compiled. */
  fromCache: boolean;
  /** True when it was compiled before adoption (prepareGlue). */
  prepared?: boolean;
  /**
   * Writes the code cache if this worker compiled the glue itself (none
   * yet, or V8 refused it). Call once its first call has run (before its
   * answer): the cache then holds the functions that call compiled too.
   */
  saveCache(): void;
}

/** A glue compiled ahead, by the path of its script. */
export interface PreparedGlue extends LoadedGlue {
  path: string;
}

/** Compiles and runs a glue's script (with its code cache when there is one): `instantiate`, nothing of the component run. */
function compileScript(s: GlueScript, name: string): LoadedGlue {
  const cachedData = readCodeCache(s.cache);
  const script = new Script(readFileSync(s.path, 'utf8'), { filename: name, ...(cachedData === undefined ? {} : { cachedData }) });
  // Undefined without a cache, true when V8 refused it (another V8, another text).
  let save = script.cachedDataRejected !== false;
  const instantiate = (script.runInThisContext() as () => unknown)();
  if (typeof instantiate !== 'function') throw new AirlockError('build-failed', `${name} is not instantiation-mode glue (no instantiate function)`);
  return {
    instantiate: instantiate as InstantiateFn,
    fromCache: !save,
    saveCache() {
      if (!save) return;
      save = false;
      writeCodeCache(s.cache, script.createCachedData());
    },
  };
}

/**
 * A blank worker's guess (WasmWorkerData.glue): the glue of the plugin the
 * host adopted a worker for last, compiled before any adoption, so that
 * plugin's next worker (a replacement, a pool's next, a parked plugin woken)
 * does not wait for it. Undefined when it cannot be compiled: the adoption
 * then loads its glue itself and reports the error.
 */
export function prepareGlue(hint: { script: GlueScript; name: string } | undefined): PreparedGlue | undefined {
  if (typeof hint?.script?.path !== 'string' || typeof hint.script.cache !== 'string' || typeof hint.name !== 'string') return undefined;
  try {
    return { ...compileScript(hint.script, hint.name), prepared: true, path: hint.script.path };
  } catch {
    return undefined;
  }
}

/** The plugin's glue: the one compiled ahead when it is that glue (same path: the same text), else loaded now. */
export async function loadGlue(data: Pick<WasmPluginData, 'glueUrl' | 'glueName' | 'glueScript'>, prepared?: PreparedGlue): Promise<LoadedGlue> {
  const s = data.glueScript;
  if (s === undefined) {
    const mod = (await import(data.glueUrl)) as { instantiate?: unknown };
    if (typeof mod.instantiate !== 'function')
      throw new AirlockError('build-failed', `${data.glueName} is not instantiation-mode glue (no instantiate export)`);
    return { instantiate: mod.instantiate as InstantiateFn, fromCache: false, saveCache: () => {} };
  }
  if (prepared !== undefined && prepared.path === s.path) return prepared;
  return compileScript(s, data.glueName);
}
