/**
 * The Kubernetes engine's warm Pods, on a cluster the bench is pointed at
 * (the harness starts none): AIRLOCK_BENCH_KUBECONFIG names its kubeconfig,
 * AIRLOCK_BENCH_REGISTRY the registry it pulls from (host[:port]), and
 * AIRLOCK_BENCH_NAMESPACE its namespace (default airlock). The cluster must
 * enforce NetworkPolicy, as the engine requires. test/bench/kubernetes.ts
 * measures the engine on the test cluster (cold start, Pods per second).
 */
import { kubernetes } from '../../engines/kubernetes/definition.ts';
import type { KubernetesSetting } from '../../grants/types.ts';
import { withInstances, type OpenOptions, type PluginSetup, type Session, type Target, type TargetBudgets } from '../target.ts';

const WARM: TargetBudgets = { warmup: 50, latency: { samples: 1000, ms: 600 }, throughput: { samples: 4000, ms: 400 }, maxInstances: 4 };

function setting(env: NodeJS.ProcessEnv = process.env): KubernetesSetting | undefined {
  const kubeconfig = env.AIRLOCK_BENCH_KUBECONFIG;
  const registry = env.AIRLOCK_BENCH_REGISTRY;
  if (kubeconfig === undefined || registry === undefined) return undefined;
  return { kubeconfig, registry, namespace: env.AIRLOCK_BENCH_NAMESPACE ?? 'airlock', networkPolicy: 'enforced' };
}

export const kubernetesWarmTarget: Target = {
  name: 'kubernetes-warm',
  label: 'Kubernetes engine, warm Pod (attach stream)',
  kind: 'engine',
  engine: kubernetes.name,
  form: 'source',
  budgets: WARM,
  async unavailable() {
    const s = setting();
    if (s === undefined) return 'no cluster named: set AIRLOCK_BENCH_KUBECONFIG and AIRLOCK_BENCH_REGISTRY';
    const p = await kubernetes.probeFor!({ kubernetes: s });
    return p?.available === true ? undefined : (p?.reason ?? 'the cluster does not answer');
  },
  async open(setup: PluginSetup, options: OpenOptions): Promise<Session> {
    const { KubernetesEngine } = await import('../../engines/kubernetes/engine.ts');
    const engine = new KubernetesEngine();
    const s = setting();
    const grants = { ...withInstances(setup.grants, options.instances), ...(s === undefined ? {} : { kubernetes: s }) };
    const plugin = await engine.load(grants, { kind: 'source' }, { signal: options.signal });
    return {
      call: async (tool, input, signal) => (await plugin.call(tool, input, { signal })).output,
      close: () => engine.close(),
    };
  },
};
