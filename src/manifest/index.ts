export { manifestSchema, API_VERSION, RUNTIMES, MAX_QUALIFIED_TOOL_NAME } from './schema.ts';
export type { Manifest, ManifestInput, Tool, FilesystemRequest, Runtime } from './schema.ts';
export { loadPlugin, validatePlugin, validateManifestText, detectRuntime, MANIFEST_FILE } from './load.ts';
export type { LoadedManifest, ValidationResult } from './load.ts';
export { manifestJsonSchema } from './json-schema.ts';
export { parseSize, parseDuration, formatSize, formatDuration } from './units.ts';
export { parseHostPattern, formatHostPattern, hostPatternCovers, hostPatternMatches } from './hosts.ts';
export { checkYaml, formatPath } from './source.ts';
export type { YamlSource } from './source.ts';
