/**
 * A real HTTP server on 127.0.0.1 for the model-server clients: each test routes "METHOD /path"
 * to a handler that answers as the server's documentation describes (serverFixtures.ts), and
 * reads back what the client sent: method, path, headers, JSON body, and whether the client
 * closed the connection before the answer ended.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** Set when the client closed the connection before the handler ended the response. */
  closedEarly: boolean;
}

type Handler = (req: SeenRequest, res: http.ServerResponse) => void | Promise<void>;

export class FakeModelServer {
  readonly seen: SeenRequest[] = [];
  private readonly routes = new Map<string, Handler>();
  private readonly server = http.createServer((req, res) => void this.handle(req, res));

  route(key: `${'GET' | 'POST'} /${string}`, handler: Handler): this {
    this.routes.set(key, handler);
    return this;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      closedEarly: false,
    };
    this.seen.push(seen);
    res.once('close', () => (seen.closedEarly = !res.writableFinished));
    const handler = this.routes.get(`${seen.method} ${seen.path}`);
    if (!handler) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    await handler(seen, res);
  }
}

/** Writes server-sent events, one `data:` per payload, then `data: [DONE]` when `done`. */
export function sse(res: http.ServerResponse, payloads: unknown[], done = true): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const p of payloads) res.write(`data: ${JSON.stringify(p)}\n\n`);
  if (done) res.write('data: [DONE]\n\n');
  res.end();
}

/** Writes newline-delimited JSON (Ollama's streams). */
export function ndjson(res: http.ServerResponse, lines: unknown[]): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (const l of lines) res.write(JSON.stringify(l) + '\n');
  res.end();
}

export function json(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
