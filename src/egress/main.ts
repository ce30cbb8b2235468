/**
 * Standalone egress proxy, for a small container attached to the plugin's
 * internal network and to a bridge:
 *
 *   node main.ts '<config JSON>'        or   AIRLOCK_EGRESS_CONFIG='<config JSON>' node main.ts
 *
 * Config: see config.ts. Writes JSON lines to stdout: one
 * {"event":"listening",...} once bound, one {"event":"decision",...} per
 * request (the EgressDecision fields), {"event":"closed"} on SIGTERM/SIGINT.
 * A bad config is reported on stderr with exit code 2.
 * Imports only node: builtins, its own folder and ipaddr.js (see
 * src/engines/docker/egress-files.ts).
 */
import { EGRESS_CONFIG_ENV, parseEgressConfig } from './config.ts';
import type { EgressConfig } from './config.ts';
import { startEgressProxy } from './server.ts';

const log = (event: string, fields: object): void => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
};

const arg = process.argv[2];
const text = arg ?? process.env[EGRESS_CONFIG_ENV];
if (text === undefined || text === '') {
  process.stderr.write(
    `airlock egress proxy: no config; pass the JSON as the first argument or in ${EGRESS_CONFIG_ENV}, e.g. '{"allow":[{"host":"api.example.com","wildcard":false,"port":443}]}'\n`,
  );
  process.exit(2);
}
let config: EgressConfig;
try {
  config = parseEgressConfig(text, arg !== undefined ? 'argument 1' : EGRESS_CONFIG_ENV);
} catch (err) {
  process.stderr.write(`airlock egress proxy: ${(err as Error).message}\n`);
  process.exit(2);
}

const proxy = await startEgressProxy({
  allow: config.allow,
  listen: config.listen,
  limits: config.limits,
  ...(config.loopbackRelay === undefined ? {} : { loopbackRelay: config.loopbackRelay }),
  onDecision: (d) => log('decision', d),
}).catch((err: unknown) => {
  process.stderr.write(`airlock egress proxy: cannot listen on ${config.listen.host}:${config.listen.port}: ${(err as Error).message}\n`);
  process.exit(1);
});
log('listening', { host: proxy.address.host, port: proxy.address.port, url: proxy.url, rules: config.allow.length });

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    void proxy.close().then(() => {
      log('closed', { signal: sig });
      process.exit(0);
    });
  });
}
