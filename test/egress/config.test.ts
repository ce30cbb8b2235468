/** The standalone proxy's config (src/egress/config.ts): grants.network.allow as is, every error naming its field. */
import test from 'ava';
import { parseEgressConfig } from '../../src/egress/index.ts';

test('parseEgressConfig takes grants.network.allow as is, with container defaults', (t) => {
  const c = parseEgressConfig('{"allow":[{"host":"api.example.com","wildcard":false,"port":443},{"host":"example.org","wildcard":true}]}', 'X');
  t.deepEqual(c, {
    allow: [
      { host: 'api.example.com', wildcard: false, port: 443 },
      { host: 'example.org', wildcard: true },
    ],
    listen: { host: '0.0.0.0', port: 3128 },
    limits: {},
  });
  const d = parseEgressConfig('{"allow":[],"listen":{"host":"127.0.0.1","port":0},"limits":{"maxConnections":8}}', 'X');
  t.deepEqual([d.listen, d.limits], [{ host: '127.0.0.1', port: 0 }, { maxConnections: 8 }]);
});

test('parseEgressConfig errors name the source, the field and the fix', (t) => {
  const cases: [string, RegExp][] = [
    ['not json', /^X: not valid JSON/],
    ['[]', /^X: must be a JSON object/],
    ['{}', /^X\.allow: missing or not an array/],
    ['{"allow":[],"extra":1}', /^X: unknown field "extra"/],
    ['{"allow":["api.example.com"]}', /^X\.allow\[0\]: must be an object/],
    ['{"allow":[{"host":"a.com","wildcard":false,"prot":1}]}', /^X\.allow\[0\]: unknown field "prot"/],
    ['{"allow":[{"host":"a.com","wildcard":false,"port":"443"}]}', /^X\.allow\[0\]\.port: must be an integer 1-65535/],
    ['{"allow":[{"host":"a.com"}]}', /^X\.allow\[0\]\.wildcard/],
    ['{"allow":[],"listen":{"host":"0.0.0.0"}}', /^X\.listen\.port/],
    ['{"allow":[],"limits":{"idle":5}}', /^X\.limits: unknown field "idle"/],
    ['{"allow":[],"limits":{"idleTimeoutMs":-1}}', /^X\.limits\.idleTimeoutMs: must be a positive integer/],
  ];
  for (const [text, message] of cases) t.throws(() => parseEgressConfig(text, 'X'), { message }, text);
});
