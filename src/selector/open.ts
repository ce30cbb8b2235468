/**
 * Loading a plugin on the selected engine, falling back along
 * `selection.fallbacks` when that engine cannot take it: wasmtime refusing
 * the component's imports, a component that fails to build or is missing.
 * Any other failure is the plugin's and is not retried elsewhere.
 */
import { engineDefinition, type EngineName } from '../engines/registry.ts';
import type { EnginePlugin } from '../engines/types.ts';
import { AirlockError, isAirlockError } from '../errors.ts';
import type { Selection } from './select.ts';

/** Loads the plugin on `engine`; `component` is set for component engines. */
export type EngineLoad = (engine: EngineName, component: string | undefined) => Promise<EnginePlugin>;

export interface OpenedSelection {
  engine: EngineName;
  /** The selector's reason, plus why earlier engines were passed over. */
  reason: string;
  instance: EnginePlugin;
  /** Engines tried before `engine`, with their errors. */
  failed: Array<{ engine: EngineName; error: AirlockError }>;
}

const FALL_THROUGH = new Set(['engine-unavailable', 'build-failed', 'not-found']);

export async function openSelected(selection: Selection, load: EngineLoad): Promise<OpenedSelection> {
  const steps = [{ engine: selection.engine, reason: selection.reason }, ...selection.fallbacks];
  const failed: OpenedSelection['failed'] = [];
  for (const [i, step] of steps.entries()) {
    const component = engineDefinition(step.engine)?.artefact === 'component' ? selection.component : undefined;
    try {
      const instance = await load(step.engine, component);
      const reason =
        failed.length === 0
          ? step.reason
          : `${failed.map((f) => `${f.engine} failed (${f.error.code}: ${f.error.message})`).join('; ')}; so ${step.engine}: ${step.reason}`;
      return { engine: step.engine, reason, instance, failed };
    } catch (err) {
      const last = i === steps.length - 1;
      if (!isAirlockError(err) || !FALL_THROUGH.has(err.code) || last) {
        if (failed.length > 0 && isAirlockError(err)) {
          Object.assign(err.details, { failedEngines: failed.map((f) => ({ engine: f.engine, code: f.error.code, message: f.error.message })) });
        }
        throw err;
      }
      failed.push({ engine: step.engine, error: err });
    }
  }
  throw new AirlockError('internal', 'openSelected: no engine to try');
}
