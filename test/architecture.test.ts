/**
 * The layout's rules, checked on the source (README "Code map"):
 * - data flows one way (manifest -> grants -> selector -> provider -> host -> front ends): no import cycle
 *   among the areas that carry it, capabilities and engines included (capabilities own their contract);
 * - no cycle between files of src/host;
 * - engines are reached through the registry: outside src/engines/<name>/ and the registry nothing
 *   names an engine (no `engine === 'docker'`, no `'wasmtime'` / `'docker'` literal in the stages that choose).
 */
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const FILES = sources(SRC).map((f) => relative(ROOT, f));
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** file -> the src files it imports (type-only imports included: a cycle of types is still a tangle to read). */
const GRAPH = new Map<string, string[]>(
  FILES.map((f) => {
    const text = readFileSync(join(ROOT, f), 'utf8');
    const deps = [...text.matchAll(IMPORT)].map((m) => relative(ROOT, resolve(ROOT, dirname(f), (m[1] ?? m[2]) as string)));
    return [f, deps.filter((d) => d.startsWith('src/'))];
  }),
);

/** `src/engines/docker/pool.ts` -> `engines`; `src/protocol.ts` -> `protocol.ts`. */
const area = (file: string): string => file.split('/')[1] ?? file;

/** Strongly connected components of a graph (Tarjan), as sets of nodes; only those with more than one node. */
function cycles(nodes: readonly string[], edges: (n: string) => readonly string[]): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of edges(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return out;
}

/** The areas on the one-way path from a plugin's grants to the front ends, and the slot pool below all of them. */
const LAYERED = new Set(['slots', 'capabilities', 'egress', 'engines', 'selector', 'provider', 'host', 'cli', 'mcp']);

test('no import cycle among the slot pool, capabilities, egress, engines, selector, provider, host and the front ends', (t) => {
  const areaEdges = new Map<string, Set<string>>();
  for (const [file, deps] of GRAPH) {
    const from = area(file);
    for (const d of deps) if (area(d) !== from) (areaEdges.get(from) ?? areaEdges.set(from, new Set()).get(from))?.add(area(d));
  }
  const found = cycles([...areaEdges.keys()], (a) => [...(areaEdges.get(a) ?? [])]).filter((c) => c.some((a) => LAYERED.has(a)));
  const explain = found.map((c) => {
    const members = new Set(c);
    const links = [...GRAPH].flatMap(([f, ds]) =>
      ds.filter((d) => members.has(area(d)) && members.has(area(f)) && area(d) !== area(f)).map((d) => `${f} -> ${d}`),
    );
    return `${c.join(' <-> ')}:\n  ${links.join('\n  ')}`;
  });
  t.deepEqual(explain, []);
});

test('no import cycle between files of src/host', (t) => {
  const host = FILES.filter((f) => f.startsWith('src/host/'));
  const found = cycles(host, (f) => (GRAPH.get(f) ?? []).filter((d) => d.startsWith('src/host/')));
  t.deepEqual(found, []);
});

test('engines are named only in their own folder and the registry: the stages that choose and serve compare no engine name', (t) => {
  const choosing = FILES.filter((f) => /^src\/(selector|provider|host|cli|mcp)\//.test(f) || /^src\/engines\/[^/]+\.ts$/.test(f));
  t.true(choosing.length > 10, 'the scan sees the choosing stages');
  const offences = choosing
    .filter((f) => f !== 'src/engines/registry.ts')
    .flatMap((f) =>
      readFileSync(join(ROOT, f), 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${f}:${i + 1}` }))
        .filter(({ line }) => !/^\s*(\*|\/\/)/.test(line) && (/\bengine\s*[!=]==\s*'(?!auto')/.test(line) || /'(docker|wasmtime)'/.test(line)))
        .map(({ line, at }) => `${at}: ${line.trim()}`),
    );
  t.deepEqual(offences, []);
});

test('the registry lists every engine folder, and every folder is an engine with a definition', (t) => {
  const folders = readdirSync(join(SRC, 'engines')).filter((n) => statSync(join(SRC, 'engines', n)).isDirectory());
  const registry = readFileSync(join(SRC, 'engines/registry.ts'), 'utf8');
  for (const name of folders) {
    t.true(statSync(join(SRC, 'engines', name, 'definition.ts'), { throwIfNoEntry: false })?.isFile() === true, `src/engines/${name}/definition.ts`);
    t.regex(registry, new RegExp(`from '\\./${name}/definition\\.ts'`), `${name} is in the registry`);
  }
});

test('engines reach capabilities only through src/capabilities/index.ts (the contract) or, inside a worker, src/capabilities/worker.ts, never a capability internal', (t) => {
  const contract = new Set(['src/capabilities/index.ts', 'src/capabilities/worker.ts']);
  const reaches = [...GRAPH]
    .filter(([f]) => f.startsWith('src/engines/') || f.startsWith('src/provider/'))
    .flatMap(([f, deps]) => deps.filter((d) => d.startsWith('src/capabilities/') && !contract.has(d)).map((d) => `${f} -> ${d}`));
  t.deepEqual(reaches, []);
});

/** Every src file `entry` reaches through static imports (type-only ones left out: they are erased). */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    const text = readFileSync(join(ROOT, f), 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\s+from\s+)?['"](\.[^'"]+)['"]/g)) {
      walk(relative(ROOT, resolve(ROOT, dirname(f), m[1] as string)));
    }
  };
  walk(entry);
  return seen;
}

test('a wasm worker statically reaches no host-side capability entry, no other engine and no egress code', (t) => {
  const reached = [...staticClosure('src/engines/wasm/worker.ts')];
  const offences = reached.filter(
    (f) =>
      f === 'src/capabilities/index.ts' ||
      /^src\/capabilities\/[^/]+\/(index|docker|wasmtime|route)\.ts$/.test(f) ||
      f.startsWith('src/egress/') ||
      // plugin-error.ts is no engine: the one decoder of a tool's own error, shared by every engine (it imports only errors.ts).
      (f.startsWith('src/engines/') && !f.startsWith('src/engines/wasm/') && f !== 'src/engines/plugin-error.ts'),
  );
  t.true(reached.includes('src/capabilities/worker.ts'), 'the scan follows the worker entry');
  t.deepEqual(offences, []);
});
