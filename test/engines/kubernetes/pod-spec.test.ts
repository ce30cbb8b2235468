/**
 * The Pod the Kubernetes engine asks for, field by field (the builder is pure; the cluster tests read the
 * admitted Pod back from the API server): the container's hardening, limits, in-memory /tmp and home,
 * granted env only, labels; and what cannot be a Pod (host paths, an unenforcing cluster) refused with why.
 */
import test from 'ava';
import { HARDENING } from '../../../src/engines/docker/options.ts';
import { kubernetes } from '../../../src/engines/kubernetes/definition.ts';
import { podName } from '../../../src/engines/kubernetes/pod.ts';
import { dnsLabel, kubernetesRefusals, podManifest, podSetLabels } from '../../../src/engines/kubernetes/pod-spec.ts';
import type { KubernetesSetting } from '../../../src/grants/types.ts';
import { policyFromObject } from '../../../src/grants/policy.ts';
import { makeGrants } from '../../helpers/grants.ts';

const setting: KubernetesSetting = { kubeconfig: '/k/admin.kubeconfig', namespace: 'airlock', registry: '127.0.0.1:5000', networkPolicy: 'enforced' };
const grants = makeGrants({
  plugin: { runtime: 'node', dir: '/p', entry: '/p/main.mjs' },
  env: { API_KEY: 'k' },
  kubernetes: setting,
});
const labels = podSetLabels('My_Plugin', 'host1', 'set1');
const pod = podManifest({ grants, name: 'airlock-x-1', namespace: 'airlock', image: '127.0.0.1:5000/airlock-plugin/x@sha256:ab', labels: labels.ownerLabels });
const spec = pod.spec!;
const c = spec.containers[0]!;

test('the Pod runs as the container user, non-root, read-only root, no capabilities, no escalation, RuntimeDefault seccomp', (t) => {
  t.true(HARDENING.ReadonlyRootfs === true && HARDENING.CapDrop?.[0] === 'ALL', 'the Docker hardening these mirror');
  for (const sc of [spec.securityContext!, c.securityContext!]) {
    t.is(sc.runAsNonRoot, true);
    t.is(sc.runAsUser, 10001);
    t.is(sc.runAsGroup, 10001);
    t.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
  }
  t.is(c.securityContext?.readOnlyRootFilesystem, true);
  t.is(c.securityContext?.allowPrivilegeEscalation, false);
  t.is(c.securityContext?.privileged, false);
  t.deepEqual(c.securityContext?.capabilities, { drop: ['ALL'] });
});

test('no service-account token, no service links, no host namespaces, no host path, never restarted', (t) => {
  t.is(spec.automountServiceAccountToken, false);
  t.is(spec.enableServiceLinks, false);
  t.is(spec.hostNetwork, false);
  t.is(spec.hostPID, false);
  t.is(spec.hostIPC, false);
  t.is(spec.restartPolicy, 'Never');
  t.true((spec.volumes ?? []).every((v) => v.hostPath === undefined && v.emptyDir?.medium === 'Memory'));
});

test("the plugin is not its Pod's PID 1: the pause container is, in a shared process namespace, as Docker's init", (t) => {
  t.true(HARDENING.Init === true, 'the Docker hardening this mirrors');
  t.is(spec.shareProcessNamespace, true);
});

test('memory and CPU requests equal the limits from resources', (t) => {
  const memory = String(grants.resources.memoryBytes);
  const cpu = `${Math.round(grants.resources.cpu * 1000)}m`;
  t.deepEqual(c.resources, { requests: { memory, cpu }, limits: { memory, cpu } });
});

test('/tmp and the home are in-memory emptyDirs sized like the Docker tmpfs (a quarter of the memory)', (t) => {
  const quarter = String(Math.floor(grants.resources.memoryBytes / 4));
  const byPath = Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.mountPath, spec.volumes?.find((v) => v.name === m.name)?.emptyDir]));
  t.deepEqual(Object.keys(byPath).sort(), ['/home/airlock', '/tmp']);
  for (const dir of Object.values(byPath)) t.deepEqual(dir, { medium: 'Memory', sizeLimit: quarter });
});

test('env is the granted names and Airlock limits only; the image entry runs; stdin stays open for attach', (t) => {
  const names = (c.env ?? []).map((e) => e.name);
  t.deepEqual(names, ['AIRLOCK_LOG_BYTES', 'AIRLOCK_OUTPUT_BYTES', 'API_KEY']);
  t.is(c.env?.find((e) => e.name === 'API_KEY')?.value, 'k');
  t.is(c.command, undefined, "the image's CMD (the in-container host) is the entry, as on Docker");
  t.is(c.stdin, true);
  t.is(c.stdinOnce, false);
  t.is(c.tty, false);
  t.regex(c.image ?? '', /@sha256:/);
});

test('labels: managed-by, plugin (as a label value), host and pod set', (t) => {
  t.deepEqual(pod.metadata?.labels, {
    'app.kubernetes.io/managed-by': 'airlock',
    'airlock.dev/pod-set': 'set1',
    'airlock.dev/host': 'host1',
    'airlock.dev/plugin': 'my-plugin',
  });
  t.deepEqual(labels.podLabels, { 'app.kubernetes.io/managed-by': 'airlock', 'airlock.dev/pod-set': 'set1' });
  t.is(dnsLabel('--A__b--'), 'a-b');
  t.is(dnsLabel('x'.repeat(80)).length, 63);
  const name = podName('My_Plugin'.repeat(10));
  t.regex(name, /^airlock-my-plugin[a-z0-9-]*[a-z0-9]-[0-9a-f]{10}$/);
  t.true(name.length <= 63, 'a Pod name is a DNS label');
});

test('a path grant is refused (no hostPath), naming the folder and the fix', (t) => {
  const g = makeGrants({ kubernetes: setting, filesystem: [{ hostPath: '/srv/data', mount: '/data', access: 'read' }] });
  const r = kubernetes.refusals(g);
  t.is(r.length, 1);
  t.regex(r[0]!, /filesystem: \/srv\/data \(granted read at \/data\).*mounts no host path.*worker or Docker engine/);
});

test('a cluster not stated to enforce NetworkPolicy is refused; no policy section is refused; a reserved env name is refused', (t) => {
  t.regex(kubernetesRefusals(makeGrants({ kubernetes: { ...setting, networkPolicy: 'unenforced' } })).join('\n'), /networkPolicy: enforced/);
  t.regex(kubernetesRefusals(makeGrants({})).join('\n'), /names no Kubernetes cluster/);
  t.regex(kubernetesRefusals(makeGrants({ kubernetes: setting, env: { AIRLOCK_X: '1' } })).join('\n'), /AIRLOCK_X is set by Airlock/);
  t.deepEqual(kubernetesRefusals(grants), []);
});

test('the policy section: kubeconfig relative to the policy file, namespace and networkPolicy defaults, a bad registry named', (t) => {
  const p = policyFromObject({ kubernetes: { kubeconfig: 'k/admin.kubeconfig', registry: 'reg.internal:5000' } }, '/etc/airlock');
  t.deepEqual(p.kubernetes, {
    kubeconfig: '/etc/airlock/k/admin.kubeconfig',
    registry: 'reg.internal:5000',
    namespace: 'airlock',
    networkPolicy: 'unenforced',
  });
  const e = t.throws(() => policyFromObject({ kubernetes: { kubeconfig: 'k', registry: 'http://x/' } }));
  t.regex(e?.message ?? '', /kubernetes\.registry: expected host\[:port\]/);
});

test('without a policy naming a cluster the engine is unavailable, saying what to add', async (t) => {
  const p = await kubernetes.probe();
  t.false(p.available);
  t.regex(p.reason ?? '', /no host policy names a Kubernetes cluster/);
  const q = await kubernetes.probeFor!(makeGrants({ kubernetes: { ...setting, kubeconfig: '/nonexistent/kubeconfig' } }));
  t.false(q?.available);
  t.regex(q?.reason ?? '', /\/nonexistent\/kubeconfig.*cannot be used/);
});
