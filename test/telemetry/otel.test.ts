/**
 * OpenTelemetry: with an SDK registered (in-memory exporters), a load, the
 * pool's build and each call are spans carrying engine, plugin, tool and
 * outcome, and calls, latency, refusals and pool occupancy are metrics.
 * Without one the host loads no OpenTelemetry code at all (checked in a
 * fresh process, before any SDK exists there).
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { metrics, trace } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { PluginHost } from '../../src/host/index.ts';
import { cPlugin, ECHO_SPIN_C } from '../host/helpers.ts';

test.serial('spans for load, build and call, and metrics for calls, latency, refusals and pool occupancy', async (t) => {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  trace.setGlobalTracerProvider(tracerProvider);
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when flushed (the interval is never reached in a test).
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  t.teardown(async () => {
    trace.disable();
    metrics.disable();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  });

  const dir = cPlugin({ name: 'otel-echo', tools: [{ name: 'echo', description: 'echo', input: { type: 'object' } }] }, ECHO_SPIN_C);
  const refusing = cPlugin(
    { name: 'otel-net', permissions: { network: { allow: ['api.example.com'] } }, tools: [{ name: 'echo', description: 'e', input: { type: 'object' } }] },
    ECHO_SPIN_C,
  );
  const host = new PluginHost({ engine: 'wasm' });
  await host.load(dir);
  await host.call('otel-echo_echo', { a: 1 });
  await host.call('otel-echo_echo', { a: 2 });
  await t.throwsAsync(host.load(refusing));
  await host.close();

  const byName = (n: string) => spans.getFinishedSpans().filter((s) => s.name === n);
  t.like(byName('airlock.load')[0]?.attributes, { 'airlock.plugin': 'otel-echo', 'airlock.engine': 'wasm', 'airlock.outcome': 'ok' });
  t.like(byName('airlock.load')[1]?.attributes, { 'airlock.outcome': 'permission-denied' });
  t.like(byName('airlock.build')[0]?.attributes, { 'airlock.plugin': 'otel-echo', 'airlock.engine': 'wasm', 'airlock.outcome': 'ok' });
  t.is(byName('airlock.call').length, 2);
  t.like(byName('airlock.call')[0]?.attributes, { 'airlock.plugin': 'otel-echo', 'airlock.tool': 'echo', 'airlock.engine': 'wasm', 'airlock.outcome': 'ok' });

  await reader.forceFlush();
  const all = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  const metric = (n: string) => all.filter((m) => m.descriptor.name === n).at(-1);
  const sum = (n: string) => (metric(n)?.dataPoints ?? []).reduce((s, p) => s + (typeof p.value === 'number' ? p.value : 0), 0);
  t.is(sum('airlock.calls'), 2);
  t.is((metric('airlock.call.duration')?.dataPoints[0]?.value as { count: number } | undefined)?.count, 2);
  t.is(sum('airlock.refusals'), 1, 'the load refused by the policy');
  t.is(sum('airlock.pool.busy'), 0, 'no call running at the end');
});

test('without an SDK the host loads no OpenTelemetry code', (t) => {
  const script = `
    const { PluginHost } = await import(${JSON.stringify(new URL('../../src/host/index.ts', import.meta.url).href)});
    const host = new PluginHost();
    await host.close();
    const { createRequire } = await import('node:module');
    const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('@opentelemetry'));
    process.stdout.write(String(loaded || globalThis[Symbol.for('opentelemetry.js.api.1')] !== undefined));
  `;
  t.is(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }), 'false');
});

// ---- hunt (hostile data) ----
test.serial('a build error the plugin writes (a 200 KB #error) reaches the load and build spans cut to a bounded status message', async (t) => {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  trace.setGlobalTracerProvider(tracerProvider);
  t.teardown(async () => {
    trace.disable();
    await tracerProvider.shutdown();
  });
  const dir = cPlugin({ name: 'otel-loud', tools: [{ name: 'echo', description: 'e', input: { type: 'object' } }] }, `#error ${'A'.repeat(200_000)}\n`);
  const host = new PluginHost({ engine: 'wasm' });
  await t.throwsAsync(host.load(dir));
  await host.close();
  const failed = spans.getFinishedSpans().filter((s) => s.attributes['airlock.outcome'] === 'build-failed');
  t.true(
    failed.length >= 1,
    spans
      .getFinishedSpans()
      .map((s) => s.name)
      .join(),
  );
  for (const s of failed) {
    t.true((s.status.message ?? '').length <= 1024, `${s.name}: a status message of ${(s.status.message ?? '').length} characters`);
    t.true((s.status.message ?? '').includes('AAAA'), 'the start of the message is kept');
  }
});
