import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

interface Link {
  client: Socket;
  upstream: Socket;
  /** Sent LISTEN (the feed's listening connection). */
  listens: boolean;
  /** Half-open: both sockets stay connected and nothing passes either way. */
  silent: boolean;
}

/**
 * A TCP proxy in front of PostgreSQL for failure tests: it can cut every connection (the database "goes away"),
 * refuse new ones until resumed, and silence the listening connections — a half-open socket: no error, no close,
 * no answer.
 */
export class PgProxy {
  private readonly links = new Set<Link>();
  private server: Server | undefined;
  port = 0;
  /** How many connections have sent LISTEN, over the proxy's life. */
  listenConnections = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  static forUrl(url: string): PgProxy {
    const { hostname, port } = new URL(url);
    return new PgProxy({ host: hostname, port: Number(port || 5432) });
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(this.port);
    return through.toString();
  }

  async start(): Promise<this> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  private accept(client: Socket) {
    const upstream = connect(this.target.port, this.target.host);
    const link: Link = { client, upstream, listens: false, silent: false };
    this.links.add(link);
    client.on('data', (chunk) => {
      if (link.silent) return;
      if (chunk.toString('latin1').toLowerCase().includes('listen "')) {
        link.listens = true;
        this.listenConnections += 1;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!link.silent) client.write(chunk);
    });
    const end = () => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }

  /** The listening connections go half-open. */
  silenceListeners(): void {
    for (const link of this.links) if (link.listens) link.silent = true;
  }

  /** Cuts every connection and refuses new ones, as a database that went down. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
