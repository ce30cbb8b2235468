/**
 * OpenTelemetry through @opentelemetry/api: spans for loads, builds (a
 * plugin's pool opening: build, hash, start) and calls, with the engine,
 * plugin, tool and outcome; metrics for calls, their latency, refusals and
 * pool occupancy (calls running). Inert unless an SDK registered a global
 * provider: until then the API is not even loaded (its global registry,
 * `Symbol.for('opentelemetry.js.api.1')`, is what an SDK creates), so a host
 * without telemetry pays nothing.
 */
import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import type { EgressDecision } from '../egress/index.ts';
import type { BuildRecord, CallEnd, CallStart, HostObserver, LoadRecord } from '../observe/observer.ts';
import { airlockVersion } from '../version.ts';

const REGISTRY = Symbol.for('opentelemetry.js.api.1');
const requirePackage = createRequire(import.meta.url);
let api: typeof Api | undefined;

/** The API once an SDK is there (its global registry exists), else undefined. */
function otel(): typeof Api | undefined {
  if ((globalThis as Record<symbol, unknown>)[REGISTRY] === undefined) return undefined;
  api ??= requirePackage('@opentelemetry/api') as typeof Api;
  return api;
}

interface Instruments {
  calls: Api.Counter;
  latency: Api.Histogram;
  refusals: Api.Counter;
  busy: Api.UpDownCounter;
}

/** Instruments per meter provider (one registered later gets its own). */
const byProvider = new WeakMap<object, Instruments>();

function instruments(o: typeof Api): Instruments {
  const provider = o.metrics.getMeterProvider();
  let found = byProvider.get(provider);
  if (found === undefined) {
    const meter = provider.getMeter('airlock', airlockVersion());
    found = {
      calls: meter.createCounter('airlock.calls', { description: 'Tool calls, by plugin, tool, engine and outcome' }),
      latency: meter.createHistogram('airlock.call.duration', { description: 'Tool call latency', unit: 'ms' }),
      refusals: meter.createCounter('airlock.refusals', { description: 'Refusals: egress requests refused, calls and loads denied permission' }),
      busy: meter.createUpDownCounter('airlock.pool.busy', { description: 'Calls running in a plugin pool now (its occupancy)' }),
    };
    byProvider.set(provider, found);
  }
  return found;
}

const tracer = (o: typeof Api): Api.Tracer => o.trace.getTracer('airlock', airlockVersion());

/**
 * Longest span status message. An error's message can hold what a plugin wrote (a compiler's output, up to the
 * build's output bound), and SDK span limits do not cover the status: each span kept or queued for export would
 * hold all of it.
 */
export const MAX_STATUS_CHARS = 1024;

function statusMessage(text: string): string {
  if (text.length <= MAX_STATUS_CHARS) return text;
  let cut = MAX_STATUS_CHARS - 1;
  if ((text.charCodeAt(cut - 1) & 0xfc00) === 0xd800) cut--; // not half a surrogate pair
  return `${text.slice(0, cut)}…`;
}

/** A span for something that already happened, from `startedAt` (epoch ms) for `ms`. */
function pastSpan(o: typeof Api, name: string, startedAt: number, ms: number, attributes: Api.Attributes, error: string | undefined): void {
  const span = tracer(o).startSpan(name, { startTime: startedAt, attributes, kind: o.SpanKind.INTERNAL });
  if (error !== undefined) span.setStatus({ code: o.SpanStatusCode.ERROR, message: statusMessage(error) });
  span.end(startedAt + ms);
}

export class TelemetryObserver implements HostObserver {
  load(r: LoadRecord): void {
    const o = otel();
    if (o === undefined) return;
    pastSpan(
      o,
      'airlock.load',
      r.startedAt ?? Date.now(),
      r.durationMs ?? 0,
      {
        'airlock.agent': r.agent,
        'airlock.plugin': r.plugin ?? r.dir,
        ...(r.engine === undefined ? {} : { 'airlock.engine': r.engine }),
        'airlock.outcome': r.error?.code ?? 'ok',
      },
      r.error?.message,
    );
    if (r.error?.code === 'permission-denied') instruments(o).refusals.add(1, { 'airlock.plugin': r.plugin ?? r.dir, 'airlock.refusal': 'load' });
  }

  build(r: BuildRecord): void {
    const o = otel();
    if (o === undefined) return;
    pastSpan(
      o,
      'airlock.build',
      r.startedAt,
      r.durationMs,
      { 'airlock.plugin': r.plugin, ...(r.engine === undefined ? {} : { 'airlock.engine': r.engine }), 'airlock.outcome': r.error?.code ?? 'ok' },
      r.error?.message,
    );
  }

  callStart(c: CallStart): void {
    const o = otel();
    if (o !== undefined) instruments(o).busy.add(1, { 'airlock.plugin': c.plugin });
  }

  callEnd(c: CallEnd): void {
    const o = otel();
    if (o === undefined) return;
    const attributes = {
      'airlock.agent': c.agent,
      'airlock.plugin': c.plugin,
      'airlock.tool': c.tool,
      ...(c.engine === undefined ? {} : { 'airlock.engine': c.engine }),
      'airlock.outcome': c.outcome,
    };
    pastSpan(o, 'airlock.call', c.startedAt, c.durationMs, attributes, c.outcome === 'ok' ? undefined : c.outcome);
    const m = instruments(o);
    m.busy.add(-1, { 'airlock.plugin': c.plugin });
    m.calls.add(1, attributes);
    m.latency.record(c.durationMs, attributes);
    if (c.outcome === 'permission-denied') m.refusals.add(1, { 'airlock.plugin': c.plugin, 'airlock.refusal': 'call' });
  }

  egress(plugin: string, d: EgressDecision): void {
    const o = otel();
    if (o !== undefined && d.decision === 'refused')
      instruments(o).refusals.add(1, { 'airlock.plugin': plugin, 'airlock.refusal': 'egress', 'airlock.code': d.code });
  }
}
