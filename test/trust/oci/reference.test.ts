/** OCI references: the registry always named, tags and digests checked, loopback over HTTP and anything else over HTTPS. */
import test from 'ava';
import { isAirlockError } from '../../../src/errors.ts';
import { formatReference, parseReference } from '../../../src/trust/oci/index.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

test('registry, repository, tag and digest are parsed; oci:// is optional', (t) => {
  t.like(parseReference('oci://localhost:5000/plugins/weather:1.0.0'), {
    registry: 'localhost:5000',
    repository: 'plugins/weather',
    tag: '1.0.0',
    base: 'http://localhost:5000',
  });
  t.like(parseReference(`ghcr.io/acme/weather@${DIGEST}`), { registry: 'ghcr.io', repository: 'acme/weather', digest: DIGEST, base: 'https://ghcr.io' });
  t.is(formatReference(parseReference(`127.0.0.1:5000/a/b:t@${DIGEST}`)), `127.0.0.1:5000/a/b:t@${DIGEST}`);
});

test('only loopback registries are spoken to over plain HTTP', (t) => {
  t.is(parseReference('127.0.0.2:80/a:t').base, 'http://127.0.0.2:80');
  t.is(parseReference('[::1]:5000/a:t').base, 'http://[::1]:5000');
  t.is(parseReference('registry.example:5000/a:t').base, 'https://registry.example:5000');
  t.is(parseReference('localhost.example.com/a:t').base, 'https://localhost.example.com');
});

for (const bad of ['weather:1.0', 'localhost:5000/Upper:t', 'localhost:5000/a:bad tag', 'localhost:5000/a@sha256:12', 'a b/c:t', 'localhost:5000/../x:t']) {
  test(`${JSON.stringify(bad)} is refused with invalid-input naming the form`, (t) => {
    const err = t.throws(() => parseReference(bad));
    t.true(isAirlockError(err, 'invalid-input'));
    t.regex(err!.message, /registry\/repository:tag/);
  });
}
