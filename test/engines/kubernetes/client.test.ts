/**
 * The kubeconfig a host policy names, before any request: an API server that cannot prove its identity (plain
 * HTTP, or TLS with verification turned off) is refused, naming the file and the fix, so nothing (images,
 * granted secrets, stdio) is sent to whoever answers at that address.
 */
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { loadKubeConfig } from '../../../src/engines/kubernetes/client.ts';
import { KubernetesEngine } from '../../../src/engines/kubernetes/engine.ts';
import { isAirlockError } from '../../../src/errors.ts';
import { altName, makeCa } from '../../helpers/ca.ts';
import { tempDir } from '../../helpers/plugin.ts';
import { grantsFor } from '../docker/helpers.ts';

function kubeconfigFile(cluster: string): string {
  const file = join(tempDir('airlock-k8s-client-'), 'kubeconfig');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: c',
      '  cluster:',
      ...cluster.split('\n').map((l) => `    ${l}`),
      'users:',
      '- name: u',
      '  user: { token: not-a-secret }',
      'contexts:',
      '- name: x',
      '  context: { cluster: c, user: u }',
      'current-context: x',
      '',
    ].join('\n'),
  );
  return file;
}

test('a kubeconfig naming a plain http:// API server is refused before any request, naming the file and the fix', async (t) => {
  // A server that would answer: the refusal must come before anything is sent to it.
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const file = kubeconfigFile(`server: http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const err = await t.throwsAsync(loadKubeConfig({ kubeconfig: file, namespace: 'airlock', registry: '127.0.0.1:5000', networkPolicy: 'enforced' }));
  t.true(isAirlockError(err, 'engine-unavailable'), String(err));
  t.true(err!.message.includes(file), err!.message);
  t.regex(err!.message, /not an https:\/\/ address/);
  t.regex(isAirlockError(err) ? (err.hint ?? '') : '', /certificate-authority/);
  t.is(requests, 0);
});

test('a kubeconfig with insecure-skip-tls-verify is refused: the API server would not have to prove its identity', async (t) => {
  const file = kubeconfigFile('server: https://127.0.0.1:6443\ninsecure-skip-tls-verify: true');
  const err = await t.throwsAsync(loadKubeConfig({ kubeconfig: file, namespace: 'airlock', registry: '127.0.0.1:5000', networkPolicy: 'enforced' }));
  t.true(isAirlockError(err, 'engine-unavailable'), String(err));
  t.regex(err!.message, /insecure-skip-tls-verify/);
});

test('an https:// API server with a certificate authority is accepted', async (t) => {
  const file = kubeconfigFile('server: https://127.0.0.1:6443\ncertificate-authority-data: Zm9v');
  const kc = await loadKubeConfig({ kubeconfig: file, namespace: 'airlock', registry: '127.0.0.1:5000', networkPolicy: 'enforced' });
  t.is(kc.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
});

test('an API server whose certificate another CA signed is refused as untrusted, naming the CA file; no request reaches it', async (t) => {
  const theirs = makeCa('posing CA');
  const ours = makeCa('the cluster CA');
  const pair = theirs.issue('apiserver', '/CN=127.0.0.1', altName('127.0.0.1'));
  let requests = 0;
  const server = createTlsServer({ cert: readFileSync(pair.cert), key: readFileSync(pair.key) }, (_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const file = kubeconfigFile(`server: https://127.0.0.1:${(server.address() as AddressInfo).port}\ncertificate-authority: ${ours.ca}`);
  const engine = new KubernetesEngine({ cleanupOrphans: false });
  t.teardown(() => engine.close());
  const grants = grantsFor('conformance-node', {
    kubernetes: { kubeconfig: file, namespace: 'airlock', registry: '127.0.0.1:5000', networkPolicy: 'enforced' },
  });
  const err = await t.throwsAsync(engine.load(grants));
  t.true(isAirlockError(err, 'engine-unavailable'), String(err));
  t.regex(err!.message, /is not trusted: its certificate does not check out against/);
  t.true(err!.message.includes(ours.ca), err!.message);
  t.is(requests, 0);
});
