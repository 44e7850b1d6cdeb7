import pg from 'pg';
import type { LeaseStore } from '../leader.js';

const PROBE_TIMEOUT_MS = 2_000;

/**
 * Leases as PostgreSQL session advisory locks on one dedicated connection: the lock is held as long as that
 * connection lives, and the server frees it the moment the process dies or the connection is cut, so another
 * replica takes over at its next attempt. Renewal proves the connection still answers; when it does not, the
 * connection is dropped (freeing the locks) and leadership is lost rather than doubted. `ttlMs` is not needed:
 * the connection is the lease.
 */
export function postgresLeases(config: pg.ClientConfig, schema: string): LeaseStore & { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  /** Lease name → its holder in this process (one connection holds the locks of all of them). */
  const held = new Map<string, string>();
  let closed = false;

  const drop = (dead: pg.Client) => {
    if (client !== dead) return;
    client = undefined;
    held.clear();
    (dead as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    dead.end().catch(() => {});
  };
  const connection = () =>
    closed
      ? Promise.reject(new Error('the store is closed'))
      : client
      ? Promise.resolve(client)
      : (connecting ??= (async () => {
          const fresh = new pg.Client({ ...config, statement_timeout: PROBE_TIMEOUT_MS });
          fresh.on('error', () => drop(fresh));
          fresh.on('end', () => drop(fresh));
          client = fresh;
          try {
            await fresh.connect();
            return fresh;
          } catch (error) {
            drop(fresh);
            throw error;
          }
        })().finally(() => (connecting = undefined)));
  const query = async <T>(text: string, values: unknown[]): Promise<T | undefined> => {
    const current = await connection();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the lease connection does not answer')), PROBE_TIMEOUT_MS)));
    try {
      const result = await Promise.race([current.query(text, values), timeout]);
      return result.rows[0] as T | undefined;
    } catch (error) {
      drop(current);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
  const key = 'hashtext($1), hashtext($2)';
  // Locks are re-entrant per connection: two holders of this process asking at once must not both get one.
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => {});
    return run;
  };

  return {
    acquire: (name, holder) => oneAtATime(async () => {
      const owner = held.get(name);
      if (owner !== undefined && owner !== holder) return false;
      if (owner === holder) {
        await query('select 1', []);
        // A dropped connection cleared what it held.
        return held.get(name) === holder;
      }
      const row = await query<{ won: boolean }>(`select pg_try_advisory_lock(${key}) as won`, [schema, `lease:${name}`]);
      if (row?.won) held.set(name, holder);
      return Boolean(row?.won);
    }),
    release: (name, holder) => oneAtATime(async () => {
      if (held.get(name) !== holder) return;
      held.delete(name);
      await query(`select pg_advisory_unlock(${key})`, [schema, `lease:${name}`]);
    }),
    async close() {
      closed = true;
      await connecting?.catch(() => {});
      if (client) drop(client);
    },
  };
}
