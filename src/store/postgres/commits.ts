import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import pg from 'pg';
import type { CommitSignal } from '../feed.js';
import type { Database } from '../schema.js';
import { FLUSH } from './statements.js';

/** How often the listening connection proves it is alive, and how long it may take to answer. */
const PROBE_EVERY_MS = 2_000;
const PROBE_TIMEOUT_MS = 2_000;
/** Polling goes on beside LISTEN: a lost notification, or a dead listener, delays an event by this much at most. */
const POLL_MS = 500;
const RECONNECT_MS = 1_000;

/**
 * Commits of other replicas, noticed two ways: LISTEN on a dedicated connection (the log's trigger notifies after
 * each commit that appended events) wakes the feed at once; polling the log's head carries on regardless, so a
 * listener that died — or went half-open, its socket silent while looking connected — costs latency, never an
 * event. A listener that fails its probe is dropped and a new one connects.
 */
export function postgresCommits(db: Kysely<Database>, config: pg.ClientConfig, schema: string): CommitSignal & { close(): Promise<void> } {
  const channel = `${schema}.team_events`;
  const wakes = new Set<() => void>();
  let client: pg.Client | undefined;
  /** Clients whose connect() has settled: pg never settles a connect() that end() interrupts. */
  const connected = new WeakSet<pg.Client>();
  let connecting: Promise<void> | undefined;
  let probe: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;

  const wakeAll = () => {
    for (const wake of wakes) wake();
  };
  const drop = (dead: pg.Client) => {
    if (client !== dead) return;
    client = undefined;
    // end() waits for the server, which a half-open socket never answers: the socket is cut instead. A client still
    // connecting is only cut, so that its connect() fails (after end() it would never settle, nor would close()).
    (dead as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    if (connected.has(dead)) dead.end().catch(() => {});
    if (wakes.size && !retry) retry = setTimeout(() => ((retry = undefined), void connect()), RECONNECT_MS).unref();
  };
  const connect = () =>
    (connecting ??= (async () => {
      const fresh = new pg.Client({ ...config, statement_timeout: PROBE_TIMEOUT_MS });
      fresh.on('error', () => drop(fresh));
      fresh.on('end', () => drop(fresh));
      fresh.on('notification', wakeAll);
      client = fresh;
      try {
        await fresh.connect().finally(() => connected.add(fresh));
        await fresh.query(`listen "${channel}"`);
        // Whatever committed while no one listened is read now.
        wakeAll();
      } catch {
        drop(fresh);
      }
    })().finally(() => (connecting = undefined)));
  const check = async () => {
    const current = client;
    if (!current || connecting) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), PROBE_TIMEOUT_MS)));
    try {
      await Promise.race([current.query('select 1'), timeout]);
    } catch {
      drop(current);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async version() {
      const row = await db.selectFrom('team_events').select(sql<number>`max(seq)`.as('seq')).executeTakeFirst();
      return row?.seq ?? 0;
    },
    pollMs: POLL_MS,
    async durable() {
      await sql.raw(FLUSH).execute(db);
    },
    listen(wake) {
      wakes.add(wake);
      if (wakes.size === 1) {
        void connect();
        probe = setInterval(() => void check(), PROBE_EVERY_MS).unref();
      }
      return () => {
        wakes.delete(wake);
        if (wakes.size) return;
        clearInterval(probe);
        clearTimeout(retry);
        retry = undefined;
        if (client) drop(client);
      };
    },
    async close() {
      wakes.clear();
      clearInterval(probe);
      clearTimeout(retry);
      await connecting;
      if (client) drop(client);
    },
  };
}
