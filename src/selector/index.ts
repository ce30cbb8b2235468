/** The runtime selector: which engine runs a plugin, and why (see ./select.ts for the rules). */
export { componentStatus } from './component.ts';
export { type EngineLoad, type OpenedSelection, openSelected } from './open.ts';
export {
  type ComponentStatus,
  describeSelection,
  type EngineAvailability,
  type EngineChoice,
  type EngineStep,
  likelyEngine,
  componentEngine,
  type SelectInput,
  type SelectorEngine,
  type Selection,
  selectEngine,
  selectProbing,
} from './select.ts';
