/**
 * The status page in a real headless browser (Debian's chromium, driven by
 * playwright-core): behind the MCP endpoint's token, it shows the plugins
 * with their grants, a call running now, and a refusal; plugin-written text
 * is escaped. AIRLOCK_STATUS_SCREENSHOT=path saves what the browser shows
 * (the README's picture).
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { PluginHost } from '../../src/host/index.ts';
import { serveHttp } from '../../src/mcp/index.ts';
import { StatusBoard } from '../../src/status/board.ts';
import { renderStatusPage, STATUS_CSP } from '../../src/status/page.ts';
import { requireExternal } from '../helpers/require.ts';
import { cPlugin, ECHO_SPIN_C } from '../host/helpers.ts';
import { rawRequest } from '../mcp/helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const withChromium = requireExternal('chromium', existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`) ? test : test.skip;

const tools = [
  { name: 'echo', description: 'echo', input: { type: 'object' } },
  { name: 'spin', description: 'never returns', input: { type: 'object' } },
];

withChromium('the status page shows plugins and grants, a live call and a refusal, behind the token', async (t) => {
  const board = new StatusBoard();
  const host = new PluginHost({ engine: 'wasm', observers: [board] });
  t.teardown(() => host.close());
  await host.load(cPlugin({ name: 'spinner', resources: { timeout: '60s' }, tools }, ECHO_SPIN_C));
  await host.call('spinner_echo', { a: 1 });
  // A load the policy refuses: a refusal on the page.
  await t.throwsAsync(host.load(cPlugin({ name: 'wants-net', permissions: { network: { allow: ['api.example.com'] } }, tools }, ECHO_SPIN_C)));
  const stop = new AbortController();
  const spinning = host.call('spinner_spin', {}, { signal: stop.signal }).catch(() => undefined);
  t.teardown(async () => {
    stop.abort();
    await spinning;
  });
  t.is(board.live.size, 1, 'the spin call is running');

  const server = await serveHttp(host, { statusPage: { render: () => renderStatusPage(host.plugins(), board), csp: STATUS_CSP } });
  t.teardown(() => server.close());
  const statusUrl = new URL('/status', server.url).href;
  t.is((await rawRequest(statusUrl, {}, undefined, 'GET')).status, 401, 'no token, no page');

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ extraHTTPHeaders: { Authorization: `Bearer ${server.token ?? ''}` }, viewport: { width: 1100, height: 700 } });
  const response = await page.goto(statusUrl);
  t.is(response?.status(), 200);
  t.regex(response?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
  const cells = (selector: string): Promise<string[]> => page.locator(selector).allTextContents();
  const plugin = await cells('#plugins tr:nth-child(2) td');
  t.deepEqual(plugin.slice(0, 3), ['spinner 0.1.0', 'ready', 'wasm']);
  t.regex(plugin[3] ?? '', /^network: nonefiles: noneenv: none$/);
  const live = await cells('#live tr.live td');
  t.deepEqual(live.slice(0, 2), ['spinner_spin', '(host)']);
  t.regex(live[2] ?? '', /^[\d.]+ s$/);
  const refusal = await cells('#refusals tr.refusal td');
  t.deepEqual(refusal.slice(1, 3), ['wants-net', 'load']);
  t.regex(refusal[3] ?? '', /^plugin "wants-net" asks for 1 permission/);
  t.is(await page.locator('#plugins svg rect').count(), 1, 'one latency bar: the echo call');
  const shot = process.env.AIRLOCK_STATUS_SCREENSHOT;
  if (shot !== undefined && shot !== '') await page.screenshot({ path: shot, fullPage: true });
});

test('plugin-written text is escaped on the page', (t) => {
  const board = new StatusBoard();
  board.egress('evil', {
    decision: 'refused',
    kind: 'http',
    host: '<img src=x onerror=alert(1)>',
    code: 'host-not-allowed',
    status: 403,
    reason: '<script>x</script>',
    client: '',
  });
  const html = renderStatusPage([], board);
  t.false(html.includes('<script>x'));
  t.false(html.includes('<img src=x'));
  t.true(html.includes('&lt;script&gt;x&lt;/script&gt;'));
});
