/**
 * A real forward proxy on 127.0.0.1 that records what passes through it: CONNECT tunnels (HTTPS)
 * are opened to the target and piped both ways, plain-HTTP requests in absolute form are forwarded.
 * A target that cannot be reached gets 502, as a real proxy answers. The unit tests and the
 * proxy e2e test use it to see which route a request took.
 */
import * as http from 'node:http';
import * as net from 'node:net';

export interface ProxiedRequest {
  /** 'CONNECT' for a tunnel, else the forwarded request's method. */
  method: string;
  /** host:port for a tunnel, the absolute URL for a forwarded request. */
  target: string;
  /** The Proxy-Authorization header, if any. */
  authorization?: string;
}

export class RecordingProxy {
  readonly log: ProxiedRequest[] = [];
  url = '';
  private readonly sockets = new Set<net.Socket>();
  private readonly server = http.createServer((req, res) => this.forward(req, res));

  /** `hosts`: names this proxy resolves itself (name → address), as a proxy's own DNS would. */
  constructor(private readonly hosts: Record<string, string> = {}) {}

  async start(): Promise<string> {
    this.server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) =>
      this.tunnel(req, client, head),
    );
    this.server.on('connection', (s: net.Socket) => this.track(s));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  private record(req: http.IncomingMessage, target: string): void {
    this.log.push({ method: req.method ?? '', target, authorization: req.headers['proxy-authorization'] });
  }

  private tunnel(req: http.IncomingMessage, client: net.Socket, head: Buffer): void {
    const target = req.url ?? '';
    this.record(req, target);
    const [host, port] = splitHostPort(target);
    const upstream = net.connect(port, this.hosts[host] ?? host);
    this.track(upstream);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    client.once('error', () => upstream.destroy());
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const target = req.url ?? '';
    this.record(req, target);
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      res.writeHead(400).end('absolute URL expected');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = http.request(
      url,
      { method: req.method, headers, host: this.hosts[url.hostname] ?? url.hostname },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.once('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(up);
  }
}

function splitHostPort(target: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  return m ? [m[1], Number(m[2])] : [target, 443];
}
