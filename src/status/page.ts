/**
 * The status page (`airlock serve --http`, GET /status, the MCP endpoint's
 * token): plugins and their grants, calls running, recent refusals, and a
 * latency chart per plugin. Server-rendered HTML without scripts, reloaded
 * every few seconds; every value a plugin wrote (names, reasons) is escaped.
 */
import type { PluginSummary } from '../host/types.ts';
import type { StatusBoard } from './board.ts';

const html = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** The header sent with the page: no script, nothing loaded from elsewhere. */
export const STATUS_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

function grantsText(p: PluginSummary): string {
  const g = p.grants;
  const parts = [
    `network: ${g.network === null ? 'none' : g.network.allow.map((a) => `${a.wildcard ? '*.' : ''}${a.host}${a.port === undefined ? '' : `:${a.port}`}`).join(', ')}`,
    `files: ${g.filesystem.length === 0 ? 'none' : g.filesystem.map((f) => `${f.hostPath} → ${f.mount} (${f.access})`).join(', ')}`,
    `env: ${Object.keys(g.env).length === 0 ? 'none' : Object.keys(g.env).join(', ')}`,
  ];
  return parts.map(html).join('<br>');
}

/** Bars of the last latencies (ms), tallest = the largest. */
function chart(samples: number[]): string {
  if (samples.length === 0) return '—';
  const max = Math.max(...samples, 1);
  const bars = samples.map((v, i) => `<rect x="${i * 4}" y="${(30 - (v / max) * 30).toFixed(1)}" width="3" height="${((v / max) * 30).toFixed(1)}"/>`).join('');
  const sorted = [...samples].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return `<svg width="240" height="30" role="img" aria-label="latency">${bars}</svg> p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`;
}

export function renderStatusPage(plugins: PluginSummary[], board: StatusBoard, now = Date.now()): string {
  const rows = plugins
    .map(
      (p) =>
        `<tr><td>${html(p.name)} ${html(p.version)}</td><td>${html(p.state)}</td><td>${html(p.engine ?? '')}</td><td>${grantsText(p)}</td><td>${chart(board.latencies.get(p.name) ?? [])}</td></tr>`,
    )
    .join('');
  const live = [...board.live.values()]
    .map(
      (c) =>
        `<tr class="live"><td>${html(c.plugin)}_${html(c.tool)}</td><td>${html(c.agent === '' ? '(host)' : c.agent)}</td><td>${((now - c.startedAt) / 1000).toFixed(1)} s</td></tr>`,
    )
    .join('');
  const refusals = board.refusals
    .map((r) => `<tr class="refusal"><td>${new Date(r.at).toISOString()}</td><td>${html(r.plugin)}</td><td>${r.what}</td><td>${html(r.reason)}</td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>Airlock status</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}svg rect{fill:#3b6}h2{font-size:1.1em}</style></head><body>
<h1>Airlock</h1>
<h2>Plugins</h2><table id="plugins"><tr><th>plugin</th><th>state</th><th>engine</th><th>grants</th><th>latency (last ${60} calls)</th></tr>${rows}</table>
<h2>Live calls (${board.live.size})</h2><table id="live"><tr><th>tool</th><th>agent</th><th>running for</th></tr>${live}</table>
<h2>Recent refusals</h2><table id="refusals"><tr><th>when</th><th>plugin</th><th>what</th><th>reason</th></tr>${refusals}</table>
</body></html>`;
}
