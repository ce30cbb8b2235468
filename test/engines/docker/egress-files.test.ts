/** What the Docker engine mounts to run the egress proxy beside a plugin's container (src/engines/docker/egress-files.ts). */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { egressRuntimeFiles } from '../../../src/engines/docker/egress-files.ts';

test('egressRuntimeFiles names the egress folder and the ipaddr.js package, and a command that runs main', async (t) => {
  const rt = egressRuntimeFiles('/opt/airlock-egress');
  t.deepEqual(
    rt.mounts.map((m) => m.containerPath),
    ['/opt/airlock-egress', '/opt/node_modules/ipaddr.js'],
  );
  // The proxy's own folder (src/egress), whose main is what the command runs.
  t.is(rt.mounts[0]!.hostPath, fileURLToPath(new URL('../../../src/egress', import.meta.url)));
  await access(path.join(rt.mounts[0]!.hostPath, 'main.ts'));
  t.deepEqual(rt.command, ['node', '/opt/airlock-egress/main.ts']);
  t.is(rt.configEnv, 'AIRLOCK_EGRESS_CONFIG');
  const pkg = JSON.parse(await readFile(path.join(rt.mounts[1]!.hostPath, 'package.json'), 'utf8')) as { name: string; version: string };
  t.is(pkg.name, 'ipaddr.js');
  t.regex(pkg.version, /^2\./);
  t.throws(() => egressRuntimeFiles('relative'), { message: /root must be an absolute folder/ });
});
