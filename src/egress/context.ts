/** What the server (server.ts) hands the CONNECT (tunnel.ts) and HTTP (forward.ts) handlers of one proxy. */
import type { Socket } from 'node:net';
import type { Dial } from './dial.ts';
import type { EgressDecision, EgressLimits, EgressProxyOptions } from './types.ts';

export interface ProxyContext {
  /** Checks, resolves once and connects (dial.ts). */
  dial: Dial;
  /** Reports one decision; never throws. */
  report(decision: EgressDecision): void;
  limits: EgressLimits;
  /** The per-proxy token as bytes, when requests must carry one (EgressProxyOptions.token). */
  token: Buffer | undefined;
  /** Set when `https://` absolute-form requests are served (EgressProxyOptions.originateTls). */
  originateTls: EgressProxyOptions['originateTls'];
  /** Receives every socket the handler creates, so close() can end it. */
  track(socket: Socket): void;
}
