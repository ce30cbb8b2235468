/** Network cells of the attack matrix (the rest are conformance cases and the egress tests). */
import type { CellFn } from '../engines.ts';
import type { CellImpls } from '../register.ts';
import { answer } from './calls.ts';

/**
 * DNS as a way out: a plugin with a network grant sits on an internal network whose only resolver is
 * Docker's embedded one. Its unknown names must go nowhere: the probe listens on the container's own
 * 127.0.0.1:53 and sees the query arrive there (the embedded resolver's only upstream), answered NXDOMAIN.
 * Nothing is sent to any resolver outside the container.
 */
const dnsNowhere: CellFn = async (t, env) => {
  const p = await env.load(
    { wasm: 'none', node: 'attack-node', python: 'attack-python' },
    { network: { allow: [{ host: 'allowed.test', wildcard: false, port: 443 }] } },
  );
  const name = `exfil-${Date.now().toString(36)}.airlock-probe.invalid`;
  const r = JSON.parse(await answer(p, 'dns_probe', { name })) as { seen: string[]; answer: string };
  t.true(r.seen.includes(name), `the query stayed in the container: ${JSON.stringify(r)}`);
  t.regex(r.answer, /ENOTFOUND|gaierror/, 'and the name did not resolve');
};

export const netCells: CellImpls = {
  'net.dns': { 'docker-node': dnsNowhere, 'docker-python': dnsNowhere },
};
