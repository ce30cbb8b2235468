/**
 * The network objects of a plugin on Kubernetes, as built (pure): the deny-all policy, the route to the egress
 * proxy and nothing else, the proxy's own policy, its hardened Pod and the plugin's proxy environment, and
 * which grants are refused. test/engines/kubernetes/network-cluster.test.ts creates them on a real cluster.
 */
import test from 'ava';
import { HARDENING } from '../../../src/engines/docker/options.ts';
import { proxyCodeConfigMap, proxyPod, readProxyCode } from '../../../src/engines/kubernetes/egress-pod.ts';
import { networkRefusals } from '../../../src/engines/kubernetes/network.ts';
import { denyAllPolicy, PROXY_LABEL, PROXY_PORT, pluginEgressPolicy, proxyEgressRules, proxyPolicy } from '../../../src/engines/kubernetes/network-policy.ts';
import type { KubernetesSetting } from '../../../src/grants/types.ts';
import { makeGrants } from '../../helpers/grants.ts';

const names = { namespace: 'plugins', ownerLabels: { 'airlock.dev/owner': 'o1' }, podLabels: { 'airlock.dev/pod-set': 's1' } };
const setting: KubernetesSetting = { kubeconfig: '/k', namespace: 'plugins', registry: '127.0.0.1:5000', networkPolicy: 'enforced' };

test('without a network grant the plugin Pods get a policy with both directions and no rule: nothing in, nothing out', (t) => {
  const p = denyAllPolicy('airlock-deny-s1', names);
  t.deepEqual(p.spec?.policyTypes, ['Ingress', 'Egress']);
  t.is(p.spec?.ingress, undefined);
  t.is(p.spec?.egress, undefined);
  t.deepEqual(p.spec?.podSelector?.matchLabels, names.podLabels);
  t.deepEqual(p.metadata?.labels, names.ownerLabels, 'orphan clean-up finds it by the owner labels');
});

test('the plugin selector never selects the egress proxy Pod, even when its labels include the plugin labels', (t) => {
  const p = denyAllPolicy('d', names);
  t.deepEqual(p.spec?.podSelector?.matchExpressions, [{ key: PROXY_LABEL, operator: 'DoesNotExist' }]);
});

test('with a network grant the plugin Pods may reach only the proxy Pod on its port: no other address, no DNS, nothing in', (t) => {
  const p = pluginEgressPolicy('e', names, 'px1');
  t.deepEqual(p.spec?.policyTypes, ['Ingress', 'Egress']);
  t.is(p.spec?.ingress, undefined, 'no ingress rule: nothing may connect to the plugin');
  t.deepEqual(p.spec?.egress, [{ to: [{ podSelector: { matchLabels: { [PROXY_LABEL]: 'px1' } } }], ports: [{ protocol: 'TCP', port: PROXY_PORT }] }]);
});

test("the proxy's policy admits only the plugin's Pods on the proxy port", (t) => {
  const p = proxyPolicy('p', names, 'px1', [{ host: 'api.example.com', wildcard: false }]);
  t.deepEqual(p.spec?.podSelector, { matchLabels: { [PROXY_LABEL]: 'px1' } });
  t.deepEqual(p.spec?.policyTypes, ['Ingress', 'Egress']);
  t.is(p.spec?.ingress?.length, 1);
  t.deepEqual(p.spec?.ingress?.[0]?._from, [
    { podSelector: { matchLabels: names.podLabels, matchExpressions: [{ key: PROXY_LABEL, operator: 'DoesNotExist' }] } },
  ]);
  t.deepEqual(p.spec?.ingress?.[0]?.ports, [{ protocol: 'TCP', port: PROXY_PORT }]);
});

test('the proxy may leave only on the ports the allowlist names: 80 and 443 for an entry without a port, DNS only with names', (t) => {
  t.deepEqual(
    proxyEgressRules([
      { host: 'api.example.com', wildcard: false },
      { host: 'example.org', wildcard: true, port: 8443 },
    ]),
    [
      { ports: [80, 443, 8443].map((port) => ({ protocol: 'TCP', port })) },
      {
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ],
  );
});

test('an IP-literal entry lets the proxy reach that one address on its port, and needs no DNS', (t) => {
  t.deepEqual(
    proxyEgressRules([
      { host: '10.88.3.1', wildcard: false, port: 8080 },
      { host: '2001:db8::1', wildcard: false },
    ]),
    [
      { to: [{ ipBlock: { cidr: '10.88.3.1/32' } }], ports: [{ protocol: 'TCP', port: 8080 }] },
      { to: [{ ipBlock: { cidr: '2001:db8::1/128' } }], ports: [80, 443].map((port) => ({ protocol: 'TCP', port })) },
    ],
  );
});

test('an empty allowlist lets the proxy out nowhere', (t) => {
  t.deepEqual(proxyEgressRules([]), []);
});

test('the proxy Pod is hardened like a plugin Pod: non-root, read-only root, no capability, no escalation, RuntimeDefault seccomp, no token', async (t) => {
  const code = await readProxyCode();
  const pod = proxyPod({ name: 'px', namespace: 'plugins', labels: { a: 'b' }, image: 'reg/node:24', configMap: 'px', code, allow: [] });
  const spec = pod.spec!;
  const c = spec.containers[0]!;
  t.false(spec.automountServiceAccountToken);
  t.false(spec.enableServiceLinks);
  t.false(spec.hostNetwork);
  t.false(spec.hostPID);
  t.false(spec.hostIPC);
  t.true(spec.securityContext?.runAsNonRoot);
  t.not(spec.securityContext?.runAsUser, 0);
  t.deepEqual(spec.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
  t.true(c.securityContext?.readOnlyRootFilesystem);
  t.false(c.securityContext?.allowPrivilegeEscalation);
  t.false(c.securityContext?.privileged);
  t.deepEqual(c.securityContext?.capabilities, { drop: ['ALL'] });
  t.truthy(c.resources?.limits?.memory, 'a memory limit');
  t.truthy(c.resources?.limits?.cpu, 'a CPU limit');
  t.deepEqual(
    spec.volumes?.map((v) => Object.keys(v).filter((k) => k !== 'name')),
    [['configMap']],
    'its only volume is its code: no host path',
  );
  t.true(c.volumeMounts?.every((m) => m.readOnly));
});

test("the proxy is not its Pod's PID 1: the pause container is, in a shared process namespace, as Docker's init for the proxy container", async (t) => {
  t.true(HARDENING.Init === true, 'the Docker hardening this mirrors');
  const pod = proxyPod({ name: 'px', namespace: 'plugins', labels: {}, image: 'reg/node:24', configMap: 'px', code: await readProxyCode(), allow: [] });
  t.is(pod.spec?.shareProcessNamespace, true);
});

test("the proxy's allowlist reaches it as its config, and its code as a ConfigMap laid out as the Docker image lays it out", async (t) => {
  const code = await readProxyCode();
  const allow = [{ host: 'api.example.com', wildcard: false, port: 443 }];
  const pod = proxyPod({ name: 'px', namespace: 'plugins', labels: {}, image: 'reg/node:24', configMap: 'px', code, allow });
  const c = pod.spec!.containers[0]!;
  const config = JSON.parse(c.env?.find((e) => e.name === code.configEnv)?.value ?? '{}') as { allow: unknown; listen: { port: number } };
  t.deepEqual(config.allow, allow);
  t.is(config.listen.port, PROXY_PORT);
  const cm = proxyCodeConfigMap('px', 'plugins', {}, code);
  const items = pod.spec!.volumes![0]!.configMap!.items!;
  const paths = items.map((i) => i.path);
  t.true(paths.includes('airlock-egress/main.ts') || paths.includes('airlock-egress/main.js'));
  t.true(paths.includes('node_modules/ipaddr.js/package.json'), 'ipaddr.js where main.ts resolves it');
  for (const i of items) t.is(cm.data?.[i.key], code.files.get(i.path));
  t.deepEqual(c.command?.slice(1), [`/opt/airlock/${paths.find((p) => p.startsWith('airlock-egress/main.'))}`]);
});

test('on a cluster not stated to enforce NetworkPolicy every plugin is refused, with or without a network grant', (t) => {
  const unenforced = { ...setting, networkPolicy: 'unenforced' as const };
  t.regex(networkRefusals(makeGrants(), unenforced).join(), /not stated to enforce NetworkPolicy/);
  t.regex(networkRefusals(makeGrants({ network: { allow: [{ host: 'api.example.com', wildcard: false }] } }), unenforced).join(), /enforce NetworkPolicy/);
});

test('on an enforcing cluster a network grant is given, but one naming the loopback of this machine is refused with the entry named', (t) => {
  t.deepEqual(networkRefusals(makeGrants(), setting), []);
  t.deepEqual(networkRefusals(makeGrants({ network: { allow: [{ host: 'api.example.com', wildcard: false }] } }), setting), []);
  const refused = networkRefusals(makeGrants({ network: { allow: [{ host: '127.0.0.1', wildcard: false, port: 8080 }] } }), setting);
  t.is(refused.length, 1);
  t.regex(refused[0] ?? '', /127\.0\.0\.1:8080 names this machine's loopback/);
});
