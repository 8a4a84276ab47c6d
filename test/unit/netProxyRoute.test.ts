/**
 * The proxy route seam of src/net/http.ts. Inside VS Code (proxySupport 'host') a request brings no
 * agent, so the host's routing applies: the extension host patches http/https (and code-server
 * installs its proxy as the global agent, which is what this test does). The CLI's route ('own')
 * keeps Glassbox's HttpsProxyAgent, from a proxy URL or HTTPS_PROXY.
 */
import assert from 'node:assert/strict';
import https from 'node:https'; // the module object itself: its globalAgent is what requests read
import { after, before, describe, it } from 'node:test';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { httpRequest, type NetOptions } from '../../src/net/http';
import { RecordingProxy } from './recordingProxy';

/** A host no resolver knows: only a proxy can take a request there (and answers 502). */
const TARGET = new URL('https://hub.glassbox.invalid/api/models');

async function send(net: NetOptions): Promise<void> {
  try {
    const res = await httpRequest(TARGET, { net: { idleTimeoutMs: 10_000, ...net } });
    res.body.resume();
  } catch {
    // the proxy's 502 or the failed lookup: which proxy saw the request is what counts
  }
}

describe('proxy routes', () => {
  const own = new RecordingProxy();
  const host = new RecordingProxy();
  before(async () => {
    await own.start();
    await host.start();
  });
  after(async () => {
    await own.close();
    await host.close();
  });

  it("the CLI's route goes through Glassbox's proxy: the URL given, else HTTPS_PROXY", async () => {
    await send({ proxy: own.url, env: {} });
    await send({ env: { HTTPS_PROXY: own.url } });
    assert.deepEqual(
      own.log.splice(0).map((r) => `${r.method} ${r.target}`),
      ['CONNECT hub.glassbox.invalid:443', 'CONNECT hub.glassbox.invalid:443'],
    );
  });

  it("the host's route adds no agent, so the host's proxy carries it even when one is configured", async () => {
    const hostAgent = new HttpsProxyAgent(host.url);
    const before = https.globalAgent;
    https.globalAgent = hostAgent as unknown as typeof https.globalAgent;
    try {
      await send({ proxySupport: 'host', proxy: own.url, env: { HTTPS_PROXY: own.url } });
    } finally {
      https.globalAgent = before;
      hostAgent.destroy();
    }
    assert.deepEqual(
      host.log.splice(0).map((r) => `${r.method} ${r.target}`),
      ['CONNECT hub.glassbox.invalid:443'],
      "the host's proxy got the request",
    );
    assert.deepEqual(own.log, [], "Glassbox's own proxy was not used");
  });
});
