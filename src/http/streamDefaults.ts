/** How event streams behave; a module of its own so the CLI can show the defaults without loading the server. */
export interface StreamOptions {
  /** Between two `keepalive` events (15–30 s keeps proxies and load balancers from closing an idle stream). */
  keepAliveMs: number;
  /**
   * A client that reads slower than events come has them buffered; past this many bytes its stream is closed, and
   * it resumes from its last event id when it reconnects — nothing is lost, and one slow reader cannot grow the
   * server's memory without bound.
   */
  maxBufferedBytes: number;
  /** The reconnection delay suggested to clients (SSE `retry`). */
  retryMs: number;
}

export const STREAM_DEFAULTS: StreamOptions = { keepAliveMs: 20_000, maxBufferedBytes: 4 * 1024 * 1024, retryMs: 2_000 };
