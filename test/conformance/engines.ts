/**
 * The engines the conformance suite runs every case against. One entry per
 * engine: which fixture runtimes it runs, whether it is usable here, and how
 * it loads a plugin from its grants. The wasm engines also run a node or
 * python fixture's `wasm:` component; Docker runs node and python entries.
 */
import type { Engine, EngineDefinition } from '../../src/engines/engine.ts';
import { ENGINES as REGISTRY, type EngineName } from '../../src/engines/registry.ts';
import type { EnginePlugin } from '../../src/engines/types.ts';
import type { Grants } from '../../src/grants/types.ts';
import { componentFor } from '../../src/provider/index.ts';
import type { External } from '../helpers/require.ts';
import { makePki, startTerminator, tlsSetting, type Terminator } from '../engines/docker/remote/tls-daemon.ts';
import { docker } from '../../src/engines/docker/definition.ts';
import { kubernetes } from '../../src/engines/kubernetes/definition.ts';
import { bridgeAddress, CLUSTER_MISSING, startTestCluster, type TestCluster } from '../engines/kubernetes/helpers.ts';
import { dockerSetupEnv } from './docker-env.ts';

export type Runtime = Grants['plugin']['runtime'];

/**
 * How the suite names an engine it runs (test titles, limitations, matrix columns): the registry engine's
 * name, or `docker-remote` for the Docker engine on a daemon reached over TCP with mutual TLS.
 */
export type ConformanceId = EngineName | 'docker-remote';

export interface ConformanceEngine {
  id: ConformanceId;
  /** The registry engine it drives. */
  name: EngineName;
  /** Fixture runtimes this engine runs (a component engine also runs a node/python fixture's `wasm:` component). */
  runtimes: readonly Runtime[];
  /** Set when the engine needs something outside Node: its tests skip loudly, or fail under AIRLOCK_REQUIRE_<X>=1. */
  external?: External;
  /**
   * How long one case may take (ava's t.timeout), where the default would not do: the Kubernetes engine
   * starts its cluster in its first case, and every Pod start waits on the kubelet of a busy machine.
   */
  caseTimeoutMs?: number;
  /**
   * Where the suite's HTTP server must listen for this engine's plugins (and its egress proxy) to reach it, when
   * not the suite's default address.
   */
  httpHost?(): Promise<string>;
  /** Undefined when usable here, else why not. */
  unavailable(): Promise<string | undefined>;
  /** Loads the plugin described by `grants` (grants.plugin.dir/entry name the fixture). */
  load(grants: Grants): Promise<EnginePlugin>;
  close(): Promise<void>;
}

async function component(grants: Grants): Promise<string> {
  const c = await componentFor(grants);
  if (c === undefined) throw new Error(`fixture ${grants.plugin.dir} has no component for a wasm engine`);
  return c;
}

/** One registry engine as the suite drives it: through the Engine interface only, as the host's provider does. */
function conformanceEngine(definition: EngineDefinition<EngineName>): ConformanceEngine {
  // A busy machine's daemon may be slow to answer a ping.
  const probe = definition.probe({ timeoutMs: 5000 });
  let engine: Promise<Engine> | undefined;
  return {
    id: definition.name,
    name: definition.name,
    runtimes: definition.artefact === 'component' ? ['wasm'] : definition.runtimes,
    ...(definition.builtin ? {} : { external: definition.name as External }),
    unavailable: async () => {
      const p = await probe;
      return p.available ? undefined : `${p.reason ?? 'not found'}; ${p.installHint ?? ''}`;
    },
    load: async (grants) => {
      engine ??= definition.create();
      const artefact = definition.artefact === 'component' ? { kind: 'component' as const, path: await component(grants) } : { kind: 'source' as const };
      return (await engine).load(grants, artefact);
    },
    close: async () => (await engine)?.close(),
  };
}

/**
 * The Docker engine on a "remote" daemon: every plugin's grants name a tcp:// daemon with mutual TLS, a TLS
 * terminator on loopback in front of this machine's daemon socket (test/engines/docker/remote/tls-daemon.ts).
 * The engine treats any tcp:// daemon as remote: images built through the API, nothing bind-mounted, read-only
 * grants copied into volumes, the egress proxy from its image.
 */
function remoteDocker(): ConformanceEngine {
  const local = conformanceEngine(docker);
  let daemon: Promise<{ terminator: Terminator; setting: NonNullable<Grants['docker']> }> | undefined;
  const start = () =>
    (daemon ??= (async () => {
      const pki = makePki('conformance');
      const terminator = await startTerminator(pki);
      return { terminator, setting: tlsSetting(terminator.port, pki.client) };
    })());
  return {
    ...local,
    id: 'docker-remote',
    // Started only where the local daemon answers: the terminator forwards to it.
    unavailable: async () => (await local.unavailable()) ?? (await start(), undefined),
    load: async (grants) => local.load({ ...grants, docker: (await start()).setting }),
    close: async () => {
      await local.close();
      await (await daemon)?.terminator.close();
    },
  };
}

/**
 * The Kubernetes engine on the test cluster (test/engines/kubernetes/helpers.ts: one node, a loopback registry,
 * kube-router enforcing NetworkPolicy), started once, by the first case that loads a plugin, and stopped by
 * close(). Every plugin's grants name it as a host policy's `kubernetes:` section would. Needs the cluster tools
 * (.ci/setup-cluster.sh) and root: without them its cases skip loudly, or fail under AIRLOCK_REQUIRE_CLUSTER=1 (CI).
 */
function kubernetesCluster(): ConformanceEngine {
  let cluster: Promise<TestCluster> | undefined;
  let bridge: Promise<Awaited<ReturnType<typeof bridgeAddress>>> | undefined;
  let engine: Promise<Engine> | undefined;
  const started = (): Promise<TestCluster> => (cluster ??= startTestCluster());
  return {
    id: 'kubernetes',
    name: 'kubernetes',
    runtimes: kubernetes.runtimes,
    external: 'cluster',
    caseTimeoutMs: 20 * 60_000,
    // The cluster bridge's own address: Pods on the cluster (the egress proxy's among them) reach this machine there.
    httpHost: async () => (await (bridge ??= started().then((tc) => bridgeAddress(tc)))).address,
    unavailable: async () => (CLUSTER_MISSING === '' ? undefined : CLUSTER_MISSING),
    load: async (grants) => {
      const { setting } = await started();
      engine ??= kubernetes.create();
      return (await engine).load({ ...grants, kubernetes: setting }, { kind: 'source' });
    },
    close: async () => {
      try {
        await (await engine)?.close();
        await (await bridge?.catch(() => undefined))?.stop();
      } finally {
        await (await cluster?.catch(() => undefined))?.stop();
      }
    },
  };
}

dockerSetupEnv();
/** Every registry engine (Kubernetes on the test cluster), then the Docker engine once more, on a remote daemon. */
export const ENGINES: readonly ConformanceEngine[] = [
  ...REGISTRY.map((d) => (d.name === 'kubernetes' ? kubernetesCluster() : conformanceEngine(d))),
  remoteDocker(),
];

/** Whether `engine` runs this fixture: its runtime, or (a wasm engine) the component a node/python fixture ships. */
export function runsFixture(engine: ConformanceEngine, runtime: Runtime, hasComponent: boolean): boolean {
  return engine.runtimes.includes(runtime) || (hasComponent && engine.runtimes.includes('wasm'));
}
