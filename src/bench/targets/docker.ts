/**
 * The Docker targets: the engine's warm pool, the engine with
 * `isolation: per-call` (a fresh pre-started container per call), and the
 * baseline a user would write without Airlock: `docker run --rm -i` per
 * call, on the same image with the same hardening flags.
 */
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { probeDocker } from '../../engines/probe.ts';
import { docker } from '../../engines/docker/definition.ts';
import { DockerEngine, dockerRunSpec } from '../../engines/docker/index.ts';
import { LABEL_OWNER, LABEL_PLUGIN, OWNER } from '../../engines/docker/container.ts';
import { AirlockError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import { parseContainerMessage } from '../../protocol.ts';
import { withInstances, type OpenOptions, type PluginSetup, type Session, type Target, type TargetBudgets } from '../target.ts';
import { runProcess } from './process.ts';

const WARM: TargetBudgets = { warmup: 50, latency: { samples: 1000, ms: 600 }, throughput: { samples: 4000, ms: 400 }, maxInstances: 4 };
/** A container per call: one warm-up call (so the first sample is not a container started ahead), a few samples, and throughput bounded by call count (one wave per lane), never by time alone. */
const PER_CONTAINER: TargetBudgets = { warmup: 1, latency: { samples: 5, ms: 1000 }, throughput: { samples: 32, ms: 600 }, maxInstances: 4 };

async function unavailable(): Promise<string | undefined> {
  const p = await probeDocker();
  return p.available ? undefined : `${p.reason ?? 'Docker unavailable'} (${p.installHint ?? ''})`;
}

/** Memory in use by each of this process's containers of `plugin`, as `docker stats` computes it (usage less inactive file cache). */
async function containerMemory(plugin: string): Promise<number | undefined> {
  const docker = new Docker();
  const list = await docker.listContainers({
    filters: JSON.stringify({ label: [`${LABEL_PLUGIN}=${plugin}`, `${LABEL_OWNER}=${OWNER}`], status: ['running'] }),
  });
  const sizes = await Promise.all(
    list.map(async (c) => {
      const s = (await docker.getContainer(c.Id).stats({ stream: false, 'one-shot': true } as { stream: false })) as {
        memory_stats?: { usage?: number; stats?: Record<string, number> };
      };
      const m = s.memory_stats;
      if (m?.usage === undefined) return undefined;
      return m.usage - (m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0);
    }),
  );
  const known = sizes.filter((x): x is number => x !== undefined);
  return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0) / known.length;
}

function engineTarget(name: 'docker-warm' | 'docker-per-call', label: string, isolation: Grants['isolation']): Target {
  return {
    name,
    label,
    kind: 'engine',
    engine: docker.name,
    form: 'source',
    budgets: isolation === 'per-call' ? PER_CONTAINER : WARM,
    unavailable,
    async open(setup: PluginSetup, options: OpenOptions): Promise<Session> {
      const engine = new DockerEngine({ cleanupOrphans: false });
      const plugin = await engine.load({ ...withInstances(setup.grants, options.instances), isolation }, { kind: 'source' }, { signal: options.signal });
      return {
        call: async (tool, input, signal) => (await plugin.call(tool, input, { signal })).output,
        memoryPerInstance: () => containerMemory(setup.grants.plugin.name),
        close: () => engine.close(),
      };
    },
  };
}

export const dockerWarmTarget = engineTarget('docker-warm', 'Docker engine, warm container', 'pooled');
export const dockerPerCallTarget = engineTarget('docker-per-call', 'Docker engine, `isolation: per-call`', 'per-call');

/** `docker run` arguments with the engine's hardening, for the baseline (what a careful user would type). */
export function dockerRunArgs(grants: Grants, tag: string): string[] {
  const spec = dockerRunSpec(grants);
  const h = spec.hostConfig;
  return [
    'run',
    '--rm',
    '-i',
    '--log-driver',
    'none',
    // The container inherits the image's airlock.managed label; without an owner, any Airlock process's
    // orphan cleanup (src/engines/docker/orphans.ts) would take it for a dead run's and kill it mid-call.
    '--label',
    `${LABEL_OWNER}=${OWNER}`,
    '--network',
    'none',
    '--user',
    '10001:10001',
    '--init',
    '--read-only',
    '--memory',
    String(h.Memory),
    '--memory-swap',
    String(h.MemorySwap),
    '--cpus',
    String((h.NanoCpus ?? 1e9) / 1e9),
    '--pids-limit',
    String(h.PidsLimit),
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges:true',
    '--tmpfs',
    `/tmp:${h.Tmpfs?.['/tmp'] ?? ''}`,
    ...Object.entries(spec.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    tag,
  ];
}

export const dockerRunTarget: Target = {
  name: 'docker-run',
  label: '`docker run --rm` per call (no Airlock)',
  kind: 'baseline',
  form: 'source',
  budgets: PER_CONTAINER,
  unavailable,
  async open(setup: PluginSetup, options: OpenOptions): Promise<Session> {
    // The image the engine built (an unchanged plugin is found by tag, not rebuilt).
    const engine = new DockerEngine({ cleanupOrphans: false });
    const { tag } = await engine.build(setup.grants, { signal: options.signal });
    await engine.close();
    const args = dockerRunArgs(setup.grants, tag);
    return {
      async call(tool, input, signal) {
        // The in-container host reads a hello line with its error token, then one request; it exits at EOF.
        const stdin = `${JSON.stringify({ type: 'hello', token: randomUUID() })}\n${JSON.stringify({ id: 1, tool, input: JSON.parse(input) })}\n`;
        const stdout = await runProcess('docker', args, { stdin, signal, onStdout: (out) => out.includes('"type":"result"') });
        for (const line of stdout.split('\n')) {
          const m = parseContainerMessage(line);
          if (m?.type !== 'result') continue;
          if (!m.ok) throw new AirlockError('plugin-error', `${tool}: ${m.error.code}: ${m.error.message}`);
          return m.output;
        }
        throw new AirlockError('crash', `docker run printed no result: ${stdout.slice(0, 300)}`);
      },
      close: async () => undefined,
    };
  },
};
