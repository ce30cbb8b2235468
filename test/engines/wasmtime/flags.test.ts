import test from 'ava';
import { CAPABILITIES } from '../../../src/capabilities/index.ts';
import { wasmtimeCommand, wasmtimeRefusals } from '../../../src/engines/wasmtime/flags.ts';
import { makeGrants } from '../../helpers/grants.ts';

const pairs = (args: string[], flag: string): string[] => args.flatMap((a, i) => (a === flag && args[i + 1] !== undefined ? [args[i + 1] as string] : []));

test('nothing granted: network, env and stdin off explicitly, limits from resources', (t) => {
  const cmd = wasmtimeCommand(makeGrants({ resources: { memoryBytes: 16 << 20, timeoutMs: 1500 } }));
  t.deepEqual(cmd.refusals, []);
  t.deepEqual(cmd.env, {});
  const s = pairs(cmd.args, '-S');
  for (const off of ['inherit-network=n', 'allow-ip-name-lookup=n', 'tcp=n', 'udp=n', 'http=n', 'inherit-env=n', 'inherit-stdin=n'])
    t.true(s.includes(off), off);
  t.true(s.includes('max-random-size=1048576'));
  t.true(s.some((x) => x.startsWith('max-resources=')));
  const w = pairs(cmd.args, '-W');
  t.true(w.includes(`max-memory-size=${16 << 20}`));
  t.true(w.includes('trap-on-grow-failure=y'));
  t.true(w.includes('timeout=1500ms'));
  t.deepEqual(pairs(cmd.args, '--dir'), []);
  t.deepEqual(pairs(cmd.args, '--env'), []);
});

test('read-write directories become --dir HOST::GUEST when the policy accepts unbounded writes on wasmtime; nothing else is mounted', (t) => {
  const cmd = wasmtimeCommand(makeGrants({ filesystem: [{ hostPath: '/srv/data', mount: '/data', access: 'read-write' }], unboundedWrites: ['wasmtime'] }));
  t.deepEqual(cmd.refusals, []);
  t.deepEqual(pairs(cmd.args, '--dir'), ['/srv/data::/data']);
});

test('a read-write directory is refused without unboundedWrites: --dir cannot hold resources.disk and resources.files', (t) => {
  const grants = makeGrants({ filesystem: [{ hostPath: '/srv/data', mount: '/data', access: 'read-write' }], resources: { diskBytes: 8 << 20, files: 50 } });
  const cmd = wasmtimeCommand(grants);
  t.deepEqual(pairs(cmd.args, '--dir'), []);
  t.is(cmd.refusals.length, 1);
  t.regex(
    cmd.refusals[0] ?? '',
    /\/srv\/data is granted read-write at \/data.*resources\.disk \(8Mi\).*resources\.files \(50\).*worker engine.*unboundedWrites/,
  );
  // Docker's opt-out does not open wasmtime.
  t.is(wasmtimeRefusals({ ...grants, unboundedWrites: ['docker'] }).length, 1);
});

test('a read-only directory is refused, never widened to read-write (wasmtime#9608)', (t) => {
  const cmd = wasmtimeCommand(
    makeGrants({
      filesystem: [
        { hostPath: '/srv/ro', mount: '/ro', access: 'read' },
        { hostPath: '/srv/rw', mount: '/rw', access: 'read-write' },
      ],
      unboundedWrites: ['wasmtime'],
    }),
  );
  t.is(cmd.refusals.length, 1);
  t.regex(cmd.refusals[0] ?? '', /\/srv\/ro.*read-only.*9608/);
  t.false(pairs(cmd.args, '--dir').some((d) => d.includes('/srv/ro')));
});

test('a path containing "::" is refused (the CLI would split it)', (t) => {
  t.is(wasmtimeRefusals(makeGrants({ filesystem: [{ hostPath: '/srv/a::b', mount: '/d', access: 'read-write' }], unboundedWrites: ['wasmtime'] })).length, 1);
});

test('granted env goes by name only; values travel in the process env, never on the command line', (t) => {
  const cmd = wasmtimeCommand(makeGrants({ env: { API_KEY: 's3cret', MODE: 'x' } }));
  t.deepEqual(pairs(cmd.args, '--env').sort(), ['API_KEY', 'MODE']);
  t.deepEqual(cmd.env, { API_KEY: 's3cret', MODE: 'x' });
  t.false(cmd.args.some((a) => a.includes('s3cret')));
});

test('any network grant is refused: the CLI has no allowlist', (t) => {
  const refusals = wasmtimeRefusals(makeGrants({ network: { allow: [{ host: 'example.com', wildcard: true, port: 443 }] } }));
  t.is(refusals.length, 1);
  t.regex(refusals[0] ?? '', /\*\.example\.com:443.*allowlist/);
  t.deepEqual(wasmtimeRefusals(makeGrants({ network: { allow: [] } })).length, 1);
});

test('every shared capability has a wasmtime mapping; one without is a refusal', (t) => {
  const caps = CAPABILITIES;
  t.deepEqual(wasmtimeRefusals(makeGrants(), caps), []);
  t.is(caps.length, CAPABILITIES.length);
  const withUnknown = [...CAPABILITIES, { name: 'telepathy' }];
  t.deepEqual(wasmtimeRefusals(makeGrants(), withUnknown), ['capability telepathy has no wasmtime mapping']);
});
