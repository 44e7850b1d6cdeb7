import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered (0: it dropped the connection). */
  status: number;
}

export type Mode = 'down' | 'error' | 'busy' | 'up';

/**
 * A real HTTP server on 127.0.0.1 (an ephemeral port) standing in for a webhook, Slack, Discord or Telegram. Its
 * mode says how it answers: `down` drops the connection, `error` answers 500, `busy` 429 with Retry-After, `up` 200.
 */
export class Receiver {
  readonly requests: Received[] = [];
  mode: Mode = 'up';
  retryAfterSeconds = 1;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const record = (status: number) => receiver.requests.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status });
        switch (receiver.mode) {
          case 'down':
            record(0);
            request.socket.destroy();
            return;
          case 'error':
            record(500);
            response.writeHead(500).end('internal error');
            return;
          case 'busy':
            record(429);
            response.writeHead(429, { 'retry-after': String(receiver.retryAfterSeconds) }).end('slow down');
            return;
          case 'up':
            record(200);
            response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    running.push(receiver);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests answered 200. */
  get delivered(): Received[] {
    return this.requests.filter((r) => r.status === 200);
  }

  async until(condition: () => boolean, what: string, timeoutMs = 45_000): Promise<void> {
    for (let waited = 0; !condition(); waited += 20) {
      if (waited > timeoutMs) throw new Error(`timed out waiting for ${what}; received ${this.requests.map((r) => r.status).join(',')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const running: Receiver[] = [];
afterEach(async () => {
  for (const receiver of running.splice(0)) await receiver.close();
});
