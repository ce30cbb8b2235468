/**
 * Test support for PluginHost: a provider that wraps the real engines and
 * counts what reaches them (opens, calls, closes), with promises that settle
 * when a count is reached, so tests wait on events rather than on time.
 */
import type { ExecutionContext } from 'ava';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CallOptions, CallResult } from '../../src/engines/types.ts';
import type { Grants } from '../../src/grants/types.ts';
import { defaultEngineProvider } from '../../src/provider/index.ts';
import type { EnginePreference, EngineProvider, OpenedPlugin, OpenOptions } from '../../src/provider/index.ts';
import type { LoadedManifest } from '../../src/manifest/index.ts';
import { type HostOptions, PluginHost } from '../../src/host/index.ts';
import { tempDir } from '../helpers/plugin.ts';

export const FIXTURES = new URL('../../fixtures/plugins/', import.meta.url).pathname;
export const fixture = (name: string): string => join(FIXTURES, name);

export interface CallRecord {
  plugin: string;
  tool: string;
  input: string;
}

export class CountingProvider implements EngineProvider {
  readonly inner: EngineProvider;
  readonly calls: CallRecord[] = [];
  readonly opened: Array<{ plugin: string; grants: Grants }> = [];
  instancesClosed = 0;
  providerClosed = false;
  #waiters: Array<{ n: number; resolve: () => void }> = [];
  #matchers: Array<{ match: (c: CallRecord) => boolean; resolve: () => void }> = [];

  constructor(inner: EngineProvider = defaultEngineProvider()) {
    this.inner = inner;
  }

  #gate: Promise<void> | undefined;
  /** Opens that have started (possibly held at the gate). */
  opening = 0;
  #openWaiters: Array<() => void> = [];

  /** Settles once an open has started (it may be held at the gate). */
  openStarted(): Promise<void> {
    if (this.opening > 0) return Promise.resolve();
    return new Promise((resolve) => this.#openWaiters.push(resolve));
  }

  /** Holds every open until the returned function is called (a slow build, made deterministic). */
  hold(): () => void {
    let release = (): void => {};
    this.#gate = new Promise((resolve) => (release = resolve));
    return () => {
      this.#gate = undefined;
      release();
    };
  }

  async open(plugin: LoadedManifest, grants: Grants, preference: EnginePreference, options?: OpenOptions): Promise<OpenedPlugin> {
    this.opening++;
    for (const w of this.#openWaiters.splice(0)) w();
    await this.#gate;
    const opened = await this.inner.open(plugin, grants, preference, options);
    this.opened.push({ plugin: plugin.manifest.name, grants });
    const name = plugin.manifest.name;
    return {
      ...opened,
      instance: {
        call: (tool: string, input: string, options?: CallOptions): Promise<CallResult> => {
          const record = { plugin: name, tool, input };
          this.calls.push(record);
          this.#matchers = this.#matchers.filter((m) => (m.match(record) ? (m.resolve(), false) : true));
          const n = this.calls.length;
          this.#waiters = this.#waiters.filter((w) => (w.n <= n ? (w.resolve(), false) : true));
          return opened.instance.call(tool, input, options);
        },
        close: async () => {
          await opened.instance.close();
          this.instancesClosed++;
        },
      },
    };
  }

  /** Settles once `n` calls in total have reached an engine. */
  reached(n: number): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }

  /** Settles once a call matching `match` reaches an engine (counting from now). */
  seen(match: (c: CallRecord) => boolean): Promise<void> {
    return new Promise((resolve) => this.#matchers.push({ match, resolve }));
  }

  async close(): Promise<void> {
    await this.inner.close();
    this.providerClosed = true;
  }
}

/**
 * A host over a CountingProvider whose opens wait until `release()` (the test decides when an engine is
 * open); the host is closed, and the gate released, when the test ends.
 */
export function heldHost(
  t: ExecutionContext,
  options: Omit<HostOptions, 'provider'> = {},
): { engines: CountingProvider; host: PluginHost; release: () => void } {
  const engines = new CountingProvider();
  const release = engines.hold();
  const host = new PluginHost({ ...options, provider: engines });
  t.teardown(async () => {
    release();
    await host.close();
  });
  return { engines, host, release };
}

/** Tracks whether a promise has settled, without letting a rejection go unhandled. */
export function track<T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  return { promise: p, settled: () => done };
}

/**
 * A wasm plugin folder built from C `source` (see wit/c/airlock_tools.h) with
 * the manifest fields given; tools default to one `echo`.
 */
export function cPlugin(manifest: Record<string, unknown>, source: string, dir = tempDir('airlock-host-')): string {
  writeFileSync(join(dir, 'plugin.c'), source);
  writeFileSync(join(dir, 'plugin.yaml'), stringify({ apiVersion: 'airlock/v1', version: '0.1.0', runtime: 'wasm', entry: 'plugin.c', ...manifest }));
  return dir;
}

/** A copy of a fixture's C source in a fresh folder, with its manifest changed. */
export function fixtureCopy(name: string, source: string, manifest: Record<string, unknown>): string {
  const dir = tempDir(`airlock-${name}-`);
  copyFileSync(join(FIXTURES, name, source), join(dir, source));
  writeFileSync(join(dir, 'plugin.yaml'), stringify({ apiVersion: 'airlock/v1', version: '0.1.0', runtime: 'wasm', entry: source, ...manifest }));
  return dir;
}

/** C source for a plugin with `echo` (returns its input) and `spin` (never returns). */
export const ECHO_SPIN_C = `#include "airlock_tools.h"
int tool(const char *name, size_t name_len, char *input, size_t input_len, struct airlock_out *out) {
  if (airlock_name_is(name, name_len, "echo")) { out->ok.ptr = input; out->ok.len = input_len; return 0; }
  if (airlock_name_is(name, name_len, "spin")) { volatile unsigned long n = 0; for (;;) n++; }
  out->code = airlock_lit("not-found"); out->message = airlock_lit("tools: echo, spin");
  return 1;
}
`;
