// Downloads in the extension host go through VS Code's proxy support, in a real VS Code. A price
// file is served over HTTPS from 127.0.0.2 (an address VS Code does not treat as this machine, so
// its proxy applies; the certificate is made here and trusted through NODE_EXTRA_CA_CERTS), and a
// recording proxy on 127.0.0.1 forwards CONNECT tunnels to it. "Glassbox: Update Prices" runs
// the download.
//
// 1. `http.proxy` set (and `http.proxySupport` at its default, "override"): the download reaches
//    the proxy, and the prices update.
// 2. `http.proxySupport: "on"` with the host in `http.noProxy`: only VS Code knows that setting,
//    and under "on" a request that brings its own agent keeps it. The download goes direct, so
//    Glassbox left routing to VS Code (an HttpsProxyAgent of its own sent it to the proxy).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RecordingProxy } from '../unit/recordingProxy';
import { e2eSkip, findGlassboxVsix } from './prerequisites';
import { Workbench } from './workbench';

const vsix = findGlassboxVsix();
const skip = e2eSkip() || (!vsix && 'no glassbox-*.vsix: run `npm run package`');
/** The price server's address: not 127.0.0.1, which VS Code always reaches directly. */
const HOST = '127.0.0.2';
/**
 * The name the proxied download uses, which only the proxy resolves (to HOST): a request that
 * skipped the proxy fails its DNS lookup. (A bare IP through a tunnel is checked against the
 * certificate as "localhost" by the https-proxy-agent inside VS Code 1.99, so a name it is.)
 */
const NAME = 'prices.glassbox.test';

/** A LiteLLM-shaped price file: one model Glassbox lists, and fillers (the update wants ten or more). */
function litellmFile(): string {
  const file: Record<string, unknown> = {};
  for (let i = 0; i < 12; i++)
    file[`filler-${i}`] = { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, litellm_provider: 'x' };
  file['gpt-4o'] = { input_cost_per_token: 3e-6, output_cost_per_token: 1.2e-5, litellm_provider: 'openai' };
  return JSON.stringify(file);
}

describe('downloads through VS Code proxy support, in a real VS Code', { skip, timeout: 420_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-e2e-proxy-'));
  const proxy = new RecordingProxy({ [NAME]: HOST });
  /** Requests that reached the price server, by whether they came through the proxy's tunnel. */
  const served: string[] = [];
  let server: https.Server;
  let port = 0;
  const pricesUrl = (host: string) => `https://${host}:${port}/model_prices.json`;
  const caBefore = process.env.NODE_EXTRA_CA_CERTS;

  before(async () => {
    const key = path.join(tmp, 'key.pem');
    const cert = path.join(tmp, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`,
      '-addext', `subjectAltName=IP:${HOST},DNS:${NAME}`, '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' }); // prettier-ignore
    server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
      served.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(litellmFile());
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    port = (server.address() as AddressInfo).port;
    await proxy.start();
    // code-server and its extension host inherit the test's environment (Workbench.start)
    process.env.NODE_EXTRA_CA_CERTS = cert;
  });
  after(async () => {
    if (caBefore === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = caBefore;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await proxy.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs Update Prices in a fresh workbench with these settings; returns the notification's text. */
  async function updatePrices(name: string, host: string, settings: Record<string, unknown>): Promise<string> {
    const wb = await Workbench.start({
      name,
      vsix,
      settings: {
        'glassbox.costs.pricesUrl': pricesUrl(host),
        'http.proxy': proxy.url,
        // the system's certificates (read from disk) would take the place of NODE_EXTRA_CA_CERTS
        'http.systemCertificates': false,
        ...settings,
      },
    });
    try {
      await wb.waitForCommands('Glassbox:');
      await wb.runCommand('Glassbox: Update Prices');
      const toast = wb.page.locator('.notifications-toasts .notification-list-item', { hasText: /prices|price/i });
      const done = toast.filter({ hasText: /updated|Could not|failed|refused/i }).first();
      await done.waitFor({ timeout: 60_000 });
      await wb.screenshot('result');
      return await done.innerText();
    } finally {
      await wb.close();
    }
  }

  it('with http.proxy set, the download goes through the proxy', async () => {
    const text = await updatePrices('proxy-via', NAME, {});
    assert.match(text, /prices updated from LiteLLM/, text);
    assert.deepEqual(
      proxy.log.map((r) => `${r.method} ${r.target}`),
      [`CONNECT ${NAME}:${port}`],
      'the one download reached the proxy',
    );
    assert.deepEqual(served, ['/model_prices.json'], 'and, through its tunnel, the server');
  });

  it('http.noProxy, which only VS Code reads, sends it around the proxy', async () => {
    proxy.log.length = 0;
    served.length = 0;
    const text = await updatePrices('proxy-around', HOST, { 'http.proxySupport': 'on', 'http.noProxy': [HOST] });
    assert.deepEqual(proxy.log, [], 'the proxy saw nothing');
    assert.match(text, /prices updated from LiteLLM/, text);
    assert.deepEqual(served, ['/model_prices.json'], 'the server was reached directly');
  });
});
