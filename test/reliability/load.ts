/**
 * One load burst, shared by test/reliability/load.test.ts (short form) and
 * test/reliability/soak.ts (full form): `n` calls issued at once (one
 * synchronous loop, no await between them) across agents and their plugins,
 * each call carrying its id, so every result is matched to its call.
 *
 * What each call expects, by tool:
 *   echo  -> its own input back ({ id, pad })
 *   add   -> id + 1
 *   fail  -> plugin-error whose message holds its id
 * An accepted call must end that way; a call past an agent's queue limit
 * must end `overloaded`; anything else (another call's result, another
 * error, no result at all) is a failure the caller reports.
 */
import type { Agent } from '../../src/host/index.ts';
import { heartbeat, Ledger, type Outcome } from './helpers.ts';

export interface Target {
  agent: Agent;
  /** Host tool name, `plugin_tool`. */
  tool: string;
  kind: 'echo' | 'add' | 'fail';
}

export interface BurstOptions {
  targets: Target[];
  n: number;
  /** Bytes of padding in each echo input (makes a retained call visible in the heap). */
  padBytes?: number;
  /** First call id (soak rounds use disjoint ids). */
  firstId?: number;
}

export interface BurstResult {
  ledger: Ledger;
  /** Calls whose outcome was not the one expected of them, with what they got. */
  wrong: Array<{ id: number; target: string; got: Outcome }>;
  /** Calls per agent that were accepted (did not end `overloaded`), and issued. */
  acceptedByAgent: Record<string, number>;
  issuedByAgent: Record<string, number>;
  overloaded: number;
  /** Turns of the event loop while calls were pending (setImmediate chain). */
  beats: number;
  /** A 1 ms interval timer's firings while calls were pending. */
  timerFires: number;
  /** Highest heap use sampled (on every timer firing) while calls were pending. */
  peakHeapBytes: number;
  elapsedMs: number;
}

function expected(kind: Target['kind'], id: number, o: Outcome): boolean {
  if (kind === 'echo') return o.ok && (o.value as { id?: unknown }).id === id;
  if (kind === 'add') return o.ok && o.value === id + 1;
  return !o.ok && o.code === 'plugin-error' && o.message.includes(`"id":${id}`);
}

export async function burst(options: BurstOptions): Promise<BurstResult> {
  const { targets, n } = options;
  const first = options.firstId ?? 0;
  const pad = 'x'.repeat(options.padBytes ?? 0);
  const ledger = new Ledger();
  const beat = heartbeat();
  let timerFires = 0;
  let peakHeapBytes = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    timerFires++;
    peakHeapBytes = Math.max(peakHeapBytes, process.memoryUsage().heapUsed);
  }, 1);
  const started = performance.now();
  const all: Promise<void>[] = [];
  const targetOf = new Map<number, Target>();
  for (let i = 0; i < n; i++) {
    const id = first + i;
    const target = targets[i % targets.length] as Target;
    targetOf.set(id, target);
    const input = target.kind === 'add' ? { a: id, b: 1 } : target.kind === 'echo' ? { id, pad } : { id };
    all.push(ledger.track(id, async () => (await target.agent.call(target.tool, input)).value));
  }
  await Promise.all(all);
  const elapsedMs = performance.now() - started;
  clearInterval(timer);
  beat.stop();
  peakHeapBytes = Math.max(peakHeapBytes, process.memoryUsage().heapUsed);
  const wrong: BurstResult['wrong'] = [];
  const acceptedByAgent: Record<string, number> = {};
  const issuedByAgent: Record<string, number> = {};
  let overloaded = 0;
  for (const [id, o] of ledger.outcomes()) {
    const target = targetOf.get(id) as Target;
    issuedByAgent[target.agent.id] = (issuedByAgent[target.agent.id] ?? 0) + 1;
    if (!o.ok && o.code === 'overloaded') {
      overloaded++;
      continue;
    }
    acceptedByAgent[target.agent.id] = (acceptedByAgent[target.agent.id] ?? 0) + 1;
    if (!expected(target.kind, id, o)) wrong.push({ id, target: `${target.agent.id}:${target.tool}`, got: o });
  }
  return { ledger, wrong, acceptedByAgent, issuedByAgent, overloaded, beats: beat.beats, timerFires, peakHeapBytes, elapsedMs };
}

/** The targets of `agents` for the plugins each loaded: echo-c (echo, add) and state (fail), conformance-node (echo) when given. */
export function targetsFor(agents: Agent[], docker: Agent[] = []): Target[] {
  const out: Target[] = [];
  for (const agent of agents) {
    out.push({ agent, tool: 'echo-c_echo', kind: 'echo' }, { agent, tool: 'echo-c_add', kind: 'add' }, { agent, tool: 'state_fail', kind: 'fail' });
  }
  for (const agent of docker) out.push({ agent, tool: 'conformance-node_echo', kind: 'echo' });
  return out;
}
