/**
 * Where the fields of a checked YAML document stand, as plain data and as
 * the YamlSource errors point with. Apart from source.ts (which parses and
 * checks, with yaml and zod) so that a manifest checked in the manifest
 * thread keeps its positions in a host that never loads either.
 */
import type { Problem } from '../errors.ts';

export type PathSegment = string | number;

export interface YamlSource {
  file: string;
  /** 1-based position of the value at `path`, or of the nearest parent that exists. */
  locate(path: readonly PathSegment[]): { line: number; column: number };
  /** 1-based position of a key in the mapping at `parent`. */
  locateKey(parent: readonly PathSegment[], key: string): { line: number; column: number };
  /** The text of the scalar at `path` as written, when there is one. */
  textAt(path: readonly PathSegment[]): string | undefined;
  /** Whether the document has a value at `path` (a field written, not defaulted). */
  has(path: readonly PathSegment[]): boolean;
  /** The positions as plain data, to cross a thread boundary (see sourceFromPositions). */
  positions: Positions;
}

/**
 * Where every node of a document stands, as plain data: a YamlSource built
 * from it answers without the parsed document, so a manifest parsed in a
 * worker thread (src/manifest/off-thread.ts) keeps its positions. Keys are
 * JSON paths; positions `[line, column]`, 1-based.
 */
export interface Positions {
  values: [string, [number, number]][];
  keys: [string, [number, number]][];
  texts: [string, string][];
}

/** `tools[0].input.type` */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

/** A YamlSource answering from positions alone (the same answers as the parsed document would give). */
export function sourceFromPositions(file: string, positions: Positions): YamlSource {
  const values = new Map(positions.values);
  const keys = new Map(positions.keys);
  const texts = new Map(positions.texts);
  const locate = (path: readonly PathSegment[]): { line: number; column: number } => {
    for (let n = path.length; n >= 0; n--) {
      const p = values.get(JSON.stringify(path.slice(0, n)));
      if (p !== undefined) return { line: p[0], column: p[1] };
    }
    return { line: 1, column: 1 };
  };
  return {
    file,
    positions,
    locate,
    locateKey(parent, key) {
      const p = keys.get(`${JSON.stringify(parent)}\0${key}`);
      return p === undefined ? locate(parent) : { line: p[0], column: p[1] };
    },
    textAt: (path) => texts.get(JSON.stringify(path)),
    has: (path) => values.has(JSON.stringify(path)),
  };
}

/** Orders problems as they appear in the file. */
export function byPosition(a: Problem, b: Problem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}
