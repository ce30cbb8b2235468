/**
 * Fixed bounds on what Airlock reads from a plugin folder. A plugin is
 * hostile from the moment its folder is read, so every read has a cap known
 * before it starts (README, "plugin.yaml" and "Plugin folders").
 */

/**
 * Largest plugin.yaml: a manifest is a page of text, not a data file. Parsing YAML with positions costs
 * about a microsecond per byte, so this cap is also what keeps `validate` of a hostile manifest fast.
 */
export const MAX_MANIFEST_BYTES = 256 * 1024;
/** Largest ignore file (.airlockignore / .dockerignore). */
export const MAX_IGNORE_BYTES = 64 * 1024;
/** Largest prebuilt component (.wasm) a plugin folder ships. */
export const MAX_COMPONENT_BYTES = 256 * 1024 * 1024;
/** Largest `wit/*.wit` world a Python plugin adds. */
export const MAX_WIT_BYTES = 1024 * 1024;

export interface TreeLimits {
  /** Files, folders and symlinks walked (ignored ones not counted). */
  maxEntries: number;
  /** Sum of the sizes of the files walked. */
  maxBytes: number;
  /** Folders below the plugin folder. */
  maxDepth: number;
  /**
   * Entries listed from the folders walked, ignored ones included: a listing is read in batches and stops
   * here, so a folder of millions of (ignored) files costs a bounded amount of memory and time.
   */
  maxListed: number;
}

/** A plugin folder: sources and small data, not a dataset (builds and content hashes walk all of it). */
export const TREE_LIMITS: TreeLimits = { maxEntries: 20_000, maxBytes: 512 * 1024 * 1024, maxDepth: 32, maxListed: 100_000 };
