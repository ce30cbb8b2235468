/**
 * The build sandbox's network (src/build/sandbox.ts): no step has it unless it asks (only pip's wheel
 * download and cargo's vendor step do, and they run no plugin code), and a step gets only the
 * environment variables it is given, never the host's.
 */
import { createServer } from 'node:net';
import test from 'ava';
import { runSandboxed } from '../../src/build/sandbox.ts';
import { tempDir } from '../helpers/plugin.ts';

const PROBE = `
import os, socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10).close()
    net = "reached"
except OSError:
    net = "unreachable"
print(net, os.environ.get("AIRLOCK_TEST_SET", "-"), os.environ.get("AIRLOCK_TEST_HOST", "-"))
`;

test('a build step reaches no network unless it asks for it, and sees only the variables it is given', async (t) => {
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = String((server.address() as { port: number }).port);
  const cwd = tempDir('airlock-sandbox-net-');
  const env = { ...process.env, AIRLOCK_TEST_HOST: 'host value' };
  const run = (network: boolean): Promise<string> =>
    runSandboxed('/usr/bin/python3', ['-c', PROBE, port], { readOnly: [cwd], writable: [], cwd, network }, 'probe', {
      env,
      setenv: { AIRLOCK_TEST_SET: 'given' },
    });
  t.is((await run(false)).trim(), 'unreachable given -');
  t.is(connections, 0);
  t.is((await run(true)).trim(), 'reached given -');
  t.is(connections, 1);
});
