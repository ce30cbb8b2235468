/**
 * Property test: for any generated pair of manifest request and host policy,
 * the grants either are refused (permission-denied) or never exceed the policy.
 */
import test from 'ava';
import fc from 'fast-check';
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { isAirlockError } from '../../src/errors.ts';
import { computeGrants, isInside, policyFromObject } from '../../src/grants/index.ts';
import { hostPatternCovers, parseHostPattern, parseDuration, parseSize, validateManifestText } from '../../src/manifest/index.ts';
import type { HostPattern } from '../../src/grants/index.ts';
import { manifestObject, tempDir } from '../helpers/plugin.ts';

// A small world of folders: the plugin, a sibling, a shared folder, and a symlink out.
const world = realpathSync(tempDir());
for (const d of ['plugin/data/sub', 'plugin/cache', 'shared', 'secret']) mkdirSync(join(world, d), { recursive: true });
symlinkSync(join(world, 'secret'), join(world, 'plugin', 'link-out'));
const pluginDir = join(world, 'plugin');
writeFileSync(join(pluginDir, 'main.py'), '');

const hosts = fc.constantFrom('api.example.com', 'a.b.example.com', 'example.com', '*.example.com', '*.b.example.com', 'api.example.com:443', 'api.example.com:80', '127.0.0.1', '127.0.0.1:8080', 'other.org', '*.other.org:443', '[::1]:9000');
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
      filesystem: fc.uniqueArray(fc.record({ path: paths, access: near(pol.filesystem.map((f) => f.access), access) }), { maxLength: 2, selector: (f) => f.path }),
      env: fc.uniqueArray(near(pol.env.map((e) => e.replace('*', 'KEY')), envNames), { maxLength: 2 }),
      resources: fc.record({ memory: sizes, timeout: durations, concurrency: fc.integer({ min: 1, max: 8 }), cpu: fc.constantFrom(0.25, 0.5, 1, 2) }, { requiredKeys: [] }),
    }),
  }),
);

test('grants never exceed the policy, for any generated manifest and policy', (t) => {
  let granted = 0;
  let refused = 0;
  t.notThrows(() => fc.assert(
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
    { numRuns: 1000 },
  ));
  t.log(`${granted} granted, ${refused} refused`);
  // Both outcomes must actually be exercised, or the property says little.
  t.true(granted > 10 && refused > 10, `${granted} granted, ${refused} refused`);
});
