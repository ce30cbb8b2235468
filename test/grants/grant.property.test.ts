/**
 * Property test: for any generated pair of manifest request and host policy,
 * the grants either are refused (permission-denied) or never exceed the policy.
 */
import test from 'ava';
import fc from 'fast-check';
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { stringify } from 'yaml';
import { isAirlockError } from '../../src/errors.ts';
import { computeGrants, isInside, policyFromObject } from '../../src/grants/index.ts';
import { hostPatternCovers, parseHostPattern, parseDuration, parseSize, validateManifestText } from '../../src/manifest/index.ts';
import type { Grants, HostPattern } from '../../src/grants/index.ts';
import { PACKAGE_ROOT, protectedPaths } from '../../src/grants/protected.ts';
import { fuzz } from '../helpers/fuzz.ts';
import { manifestObject, tempDir } from '../helpers/plugin.ts';

// A small world of folders: the plugin, a sibling, a shared folder, and a symlink out.
const world = realpathSync(tempDir());
for (const d of ['plugin/data/sub', 'plugin/cache', 'shared', 'secret']) mkdirSync(join(world, d), { recursive: true });
symlinkSync(join(world, 'secret'), join(world, 'plugin', 'link-out'));
const pluginDir = join(world, 'plugin');
writeFileSync(join(pluginDir, 'main.py'), '');

const hosts = fc.constantFrom(
  'api.example.com',
  'a.b.example.com',
  'example.com',
  '*.example.com',
  '*.b.example.com',
  'api.example.com:443',
  'api.example.com:80',
  '127.0.0.1',
  '127.0.0.1:8080',
  'other.org',
  '*.other.org:443',
  '[::1]:9000',
);
const paths = fc.constantFrom('.', './data', './data/sub', './cache', '../shared', '../secret', './link-out', './data/../..', '../plugin/data');
const roots = fc.constantFrom(pluginDir, join(pluginDir, 'data'), join(world, 'shared'), world, join(world, 'secret'));
const access = fc.constantFrom('read' as const, 'read-write' as const);
const envNames = fc.constantFrom('A', 'API_KEY', 'API_URL', 'HOME', 'PATH', 'TOKEN');
const envPolicy = fc.constantFrom('A', 'API_*', 'HOME', 'TOKEN', 'T*');
const sizes = fc.constantFrom('1Mi', '64Mi', '128Mi', '512Mi', '1Gi');
const durations = fc.constantFrom('100ms', '1s', '10s', '60s', '5m');

const policy = fc.record({
  limits: fc.record({ memory: sizes, timeout: durations, concurrency: fc.integer({ min: 1, max: 8 }), cpu: fc.constantFrom(0.5, 1, 4) }, { requiredKeys: [] }),
  network: fc.record({ allow: fc.array(hosts, { maxLength: 4 }) }),
  filesystem: fc.array(fc.record({ path: roots, access }), { maxLength: 3 }),
  env: fc.array(envPolicy, { maxLength: 3 }),
});

/** Mostly pick what the policy names (so grants happen), sometimes anything (so refusals do). */
const near = <T>(fromPolicy: T[], any: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fromPolicy.length === 0 ? any : fc.oneof({ arbitrary: fc.constantFrom(...fromPolicy), weight: 4 }, { arbitrary: any, weight: 1 });

const pair = policy.chain((pol) =>
  fc.record({
    pol: fc.constant(pol),
    req: fc.record({
      network: fc.option(fc.array(near(pol.network.allow, hosts), { minLength: 1, maxLength: 2 }), { nil: undefined }),
      filesystem: fc.uniqueArray(
        fc.record({
          path: paths,
          access: near(
            pol.filesystem.map((f) => f.access),
            access,
          ),
        }),
        { maxLength: 2, selector: (f) => f.path },
      ),
      env: fc.uniqueArray(
        near(
          pol.env.map((e) => e.replace('*', 'KEY')),
          envNames,
        ),
        { maxLength: 2 },
      ),
      resources: fc.record(
        { memory: sizes, timeout: durations, concurrency: fc.integer({ min: 1, max: 8 }), cpu: fc.constantFrom(0.25, 0.5, 1, 2) },
        { requiredKeys: [] },
      ),
    }),
  }),
);

test('grants never exceed the policy, for any generated manifest and policy', (t) => {
  let granted = 0;
  let refused = 0;
  t.notThrows(() =>
    fc.assert(
      fc.property(pair, ({ req, pol }) => {
        const permissions: Record<string, unknown> = {
          filesystem: req.filesystem.map((f, i) => ({ ...f, mount: `/m${i}` })),
          env: req.env,
        };
        if (req.network !== undefined) permissions.network = { allow: req.network };
        const checked = validateManifestText(join(pluginDir, 'plugin.yaml'), stringify(manifestObject({ permissions, resources: req.resources })));
        if (!checked.ok) throw new Error(checked.problems.map((p) => p.message).join('; '));
        const p = policyFromObject(pol);
        let g;
        try {
          g = computeGrants(checked.plugin, p, { env: { A: '1', API_KEY: 'k', API_URL: 'u', HOME: '/h', PATH: '/p', TOKEN: 't' } });
        } catch (err) {
          if (!isAirlockError(err, 'permission-denied') || err.problems.length === 0) throw err;
          refused++;
          return true;
        }
        granted++;
        const allowed = p.network.allow.map((h) => parseHostPattern(h) as HostPattern);
        for (const h of g.network?.allow ?? []) if (!allowed.some((a) => hostPatternCovers(a, h))) return false;
        if (req.network === undefined && g.network !== null) return false;
        for (const f of g.filesystem) {
          const ok = p.filesystem.some((r) => isInside(realpathSync(r.path), f.hostPath) && (f.access === 'read' || r.access === 'read-write'));
          if (!ok) return false;
          if (realpathSync(f.hostPath) !== f.hostPath) return false;
        }
        for (const name of Object.keys(g.env)) {
          if (!p.env.some((e) => (e.endsWith('*') ? name.startsWith(e.slice(0, -1)) : e === name))) return false;
          if (!req.env.includes(name)) return false;
        }
        const r = g.resources;
        return (
          r.memoryBytes <= parseSize(p.limits.memory) &&
          r.timeoutMs <= parseDuration(p.limits.timeout) &&
          r.concurrency <= p.limits.concurrency &&
          r.cpu <= p.limits.cpu
        );
      }),
      fuzz(1000),
    ),
  );
  t.log(`${granted} granted, ${refused} refused`);
  // Both outcomes must actually be exercised, or the property says little.
  t.true(granted > 10 && refused > 10, `${granted} granted, ${refused} refused`);
});

// ---- the algebra: widening, determinism, where granted paths may lead ----

// Protected places inside the world, so policies can reach them: the cache and a Docker socket
// (environment read by protectedPaths() at each call); Airlock's own package is where it is.
process.env.AIRLOCK_CACHE_DIR = join(world, 'shared', 'cache-root');
process.env.DOCKER_HOST = `unix://${join(world, 'shared', 'run', 'docker.sock')}`;
mkdirSync(join(world, 'shared', 'cache-root', 'glue'), { recursive: true });
mkdirSync(join(world, 'shared', 'run'), { recursive: true });
writeFileSync(join(world, 'shared', 'run', 'docker.sock'), '');

const widePaths = fc.constantFrom(
  ...[
    '.',
    './data',
    './data/sub',
    './cache',
    '../shared',
    '../shared/run',
    '../shared/cache-root',
    '../shared/cache-root/glue',
    './link-out',
    '../plugin/data/./sub//',
  ],
  ...[PACKAGE_ROOT, join(PACKAGE_ROOT, 'src'), join(PACKAGE_ROOT, 'src', 'grants'), join(PACKAGE_ROOT, 'fixtures'), '/'],
);
const wideRoots = fc.constantFrom(pluginDir, join(world, 'shared'), world, '/', PACKAGE_ROOT, join(PACKAGE_ROOT, 'fixtures'));
const manyHosts = fc.constantFrom(
  'api.example.com',
  'example.com',
  '*.example.com',
  'api.example.com:443',
  'api.example.com:22',
  '*.example.com:8443',
  '127.0.0.1',
  '127.0.0.1:8080',
);

const policyArb = fc.record({
  limits: fc.record({ memory: sizes, timeout: durations, concurrency: fc.integer({ min: 1, max: 8 }), cpu: fc.constantFrom(0.5, 1, 4) }, { requiredKeys: [] }),
  network: fc.record({ allow: fc.array(manyHosts, { maxLength: 3 }) }),
  filesystem: fc.array(fc.record({ path: wideRoots, access }), { maxLength: 3 }),
  env: fc.array(envPolicy, { maxLength: 3 }),
});
type PolicyObject = typeof policyArb extends fc.Arbitrary<infer T> ? T : never;

/** A policy and a wider one: more hosts, folders, variables, write access, higher caps. */
const widening = fc.tuple(policyArb, policyArb, fc.boolean()).map(([pol, more, raiseCaps]): [PolicyObject, PolicyObject] => [
  pol,
  {
    limits: raiseCaps ? { memory: '1Gi', timeout: '5m', concurrency: 8, cpu: 4 } : pol.limits,
    network: { allow: [...pol.network.allow, ...more.network.allow] },
    filesystem: [...pol.filesystem.map((f) => (more.filesystem.length > 1 ? { ...f, access: 'read-write' as const } : f)), ...more.filesystem],
    env: [...pol.env, ...more.env],
  },
]);

/** A request leaning on what `pol` allows (so that grants happen), with anything else now and then (so refusals do). */
const requestNear = (pol: PolicyObject) =>
  fc.record({
    network: fc.option(fc.uniqueArray(near(pol.network.allow, manyHosts), { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 2 }),
    filesystem: fc.uniqueArray(
      fc.record({
        path: widePaths,
        access: near(
          pol.filesystem.map((f) => f.access),
          access,
        ),
      }),
      { maxLength: 2, selector: (f) => f.path },
    ),
    env: fc.uniqueArray(
      near(
        pol.env.map((e) => e.replace('*', 'KEY')),
        envNames,
      ),
      { maxLength: 2 },
    ),
    resources: fc.record(
      {
        memory: near(pol.limits.memory === undefined ? [] : [pol.limits.memory], sizes),
        timeout: near(pol.limits.timeout === undefined ? [] : [pol.limits.timeout], durations),
        concurrency: near(pol.limits.concurrency === undefined ? [] : [pol.limits.concurrency], fc.integer({ min: 1, max: 8 })),
      },
      { requiredKeys: [] },
    ),
  });
const request = policyArb.chain(requestNear);
type RequestObject = typeof request extends fc.Arbitrary<infer T> ? T : never;

function pluginFor(req: RequestObject) {
  const permissions: Record<string, unknown> = { filesystem: req.filesystem.map((f, i) => ({ ...f, mount: `/m${i}/` })), env: req.env };
  if (req.network !== undefined) permissions.network = { allow: req.network };
  const checked = validateManifestText(join(pluginDir, 'plugin.yaml'), stringify(manifestObject({ permissions, resources: req.resources })));
  if (!checked.ok) throw new Error(checked.problems.map((p) => p.message).join('; '));
  return checked.plugin;
}

const hostEnv = { A: '1', API_KEY: 'k', API_URL: 'u', HOME: '/h', PATH: '/p', TOKEN: 't' };

/** The grants, or the refused fields. */
function outcome(plugin: ReturnType<typeof pluginFor>, pol: PolicyObject): { grants: Grants } | { refused: string[]; nested: string[] } {
  try {
    return { grants: computeGrants(plugin, policyFromObject(pol), { env: hostEnv }) };
  } catch (err) {
    if (!isAirlockError(err, 'permission-denied')) throw err;
    // Refused for lying inside another entry's read-write grant: that happens only once the outer one is granted.
    const nested = err.problems.filter((p) => p.message.includes('the read-write grant')).map((p) => p.path);
    return { refused: err.problems.map((p) => p.path), nested };
  }
}

test('a wider policy never takes away a grant: what is granted stays granted unchanged, and refusals only shrink (but for folders nested in a newly granted read-write one)', (t) => {
  let both = 0;
  t.notThrows(() =>
    fc.assert(
      fc.property(
        widening.chain(([narrow, wide]) => fc.tuple(requestNear(narrow), fc.constant(narrow), fc.constant(wide))),
        ([req, narrow, wide]) => {
          const plugin = pluginFor(req);
          const a = outcome(plugin, narrow);
          const b = outcome(plugin, wide);
          if ('grants' in a) {
            if (!('grants' in b)) throw new Error(`granted under the narrow policy, refused under the wider one: ${b.refused.join(', ')}`);
            const same = (g: Grants) => JSON.stringify({ fs: g.filesystem, net: g.network, env: g.env });
            both++;
            if (same(a.grants) !== same(b.grants)) throw new Error(`grants changed: ${same(a.grants)} → ${same(b.grants)}`);
            for (const k of ['memoryBytes', 'cpu', 'timeoutMs', 'concurrency'] as const) {
              if (b.grants.resources[k] < a.grants.resources[k])
                throw new Error(`resources.${k} fell from ${a.grants.resources[k]} to ${b.grants.resources[k]}`);
            }
          } else if ('refused' in b) {
            // A folder inside a read-write grant is refused once that grant succeeds (README, Host policy), so a
            // wider policy may refuse such an entry anew; any other new refusal is the policy narrowing.
            const extra = b.refused.filter((p) => !a.refused.includes(p) && !b.nested.includes(p));
            if (extra.length > 0) throw new Error(`the wider policy refuses more: ${extra.join(', ')}`);
          }
        },
      ),
      fuzz(300),
    ),
  );
  t.log(`${both} requests granted under both policies`);
  t.true(both > 10, `${both} requests granted under both policies`);
});

test('grants are a subset of the request: same mounts and access, only asked-for hosts and variables, and computing twice gives the same', (t) => {
  let granted = 0;
  t.notThrows(() =>
    fc.assert(
      fc.property(
        policyArb.chain((pol) => fc.tuple(requestNear(pol), fc.constant(pol))),
        ([req, pol]) => {
          const plugin = pluginFor(req);
          const first = outcome(plugin, pol);
          const again = outcome(plugin, pol);
          if (JSON.stringify(first) !== JSON.stringify(again)) throw new Error(`not deterministic: ${JSON.stringify(first)} vs ${JSON.stringify(again)}`);
          if (!('grants' in first)) return;
          granted++;
          const g = first.grants;
          const asked = req.filesystem.map((f, i) => ({ mount: `/m${i}`, access: f.access }));
          for (const f of g.filesystem)
            if (!asked.some((a) => a.mount === f.mount && a.access === f.access)) throw new Error(`granted ${JSON.stringify(f)} not as asked`);
          if (g.filesystem.length !== req.filesystem.length) throw new Error('a filesystem entry was dropped silently');
          const hosts = (req.network ?? []).map((h) => JSON.stringify(parseHostPattern(h)));
          if (JSON.stringify(g.network?.allow.map((h) => JSON.stringify(h)) ?? null) !== JSON.stringify(req.network === undefined ? null : hosts)) {
            throw new Error(`network ${JSON.stringify(g.network)} is not the request ${JSON.stringify(req.network)}`);
          }
          for (const name of Object.keys(g.env)) if (!req.env.includes(name)) throw new Error(`env ${name} was not asked for`);
        },
      ),
      fuzz(300),
    ),
  );
  t.log(`${granted} granted`);
  t.true(granted > 10, `${granted} granted`);
});

test('a refusal is permission-denied naming each refused manifest field with its line; nothing else is thrown', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(request, policyArb, (req, pol) => {
        const plugin = pluginFor(req);
        try {
          computeGrants(plugin, policyFromObject(pol), { env: hostEnv });
        } catch (err) {
          if (!isAirlockError(err, 'permission-denied')) throw err;
          if (err.problems.length === 0) throw new Error('a refusal without problems');
          for (const p of err.problems) {
            const m = /^permissions\.(?:filesystem\[(\d+)\]\.path|network\.allow\[(\d+)\]|env\[(\d+)\])$|^resources\.(memory|timeout|concurrency|cpu)$/.exec(
              p.path,
            );
            if (m === null) throw new Error(`refusal names no requested field: ${p.path}`);
            const [, fs, net, env, res] = m;
            const exists =
              (fs !== undefined && Number(fs) < req.filesystem.length) ||
              (net !== undefined && Number(net) < (req.network?.length ?? 0)) ||
              (env !== undefined && Number(env) < req.env.length) ||
              (res !== undefined && res in req.resources);
            if (!exists) throw new Error(`refusal names ${p.path}, which the manifest does not have`);
            if (p.file !== plugin.file || (p.line ?? 0) < 2 || p.hint === undefined)
              throw new Error(`refusal of ${p.path} has no line or fix: ${JSON.stringify(p)}`);
          }
        }
      }),
      fuzz(300),
    ),
  );
});

// Filesystem only, under policies that often allow everything: so that grants happen, and protection is what refuses.
const folderRequest: fc.Arbitrary<RequestObject> = fc.record({
  network: fc.constant(undefined),
  filesystem: fc.uniqueArray(fc.record({ path: widePaths, access }), { minLength: 1, maxLength: 2, selector: (f) => f.path }),
  env: fc.constant([]),
  resources: fc.constant({}),
});
const folderPolicy: fc.Arbitrary<PolicyObject> = fc.record({
  limits: fc.constant({}),
  network: fc.constant({ allow: [] }),
  filesystem: fc.array(fc.record({ path: fc.oneof({ arbitrary: fc.constant('/'), weight: 2 }, { arbitrary: wideRoots, weight: 1 }), access }), {
    minLength: 1,
    maxLength: 2,
  }),
  env: fc.constant([]),
});

test('a granted host path is absolute, canonical, and neither inside nor around a protected path (cache, Airlock code, Docker socket)', (t) => {
  let granted = 0;
  t.notThrows(() =>
    fc.assert(
      fc.property(folderRequest, folderPolicy, (req, pol) => {
        const o = outcome(pluginFor(req), pol);
        if (!('grants' in o)) return;
        const guarded = protectedPaths();
        for (const f of o.grants.filesystem) {
          granted++;
          if (!isAbsolute(f.hostPath) || normalize(f.hostPath) !== f.hostPath || (f.hostPath !== '/' && f.hostPath.endsWith('/')))
            throw new Error(`not normalised: ${f.hostPath}`);
          if (realpathSync(f.hostPath) !== f.hostPath) throw new Error(`not canonical: ${f.hostPath}`);
          for (const p of guarded) {
            if (isInside(f.hostPath, p.path) || (p.refuse === 'both' && isInside(p.path, f.hostPath)))
              throw new Error(`${f.hostPath} overlaps ${p.what} ${p.path}`);
          }
        }
      }),
      fuzz(400),
    ),
  );
  t.log(`${granted} paths granted`);
  t.true(granted > 20, `${granted} paths granted`);
});
