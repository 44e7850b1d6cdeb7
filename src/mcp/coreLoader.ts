import type { Core } from '../core/core.js';

export interface CoreLoader {
  /** The core, opened on first use; after a failed open, the next use tries again. */
  core(): Promise<Core>;
  /** Stops the background work and closes the store, if it was opened. */
  close(): Promise<void>;
}

/**
 * Opens the core on demand with `openCore` (which imports the store only then): a server answers the MCP handshake
 * before Kysely, the schemas and SQLite are even loaded. An open that fails (a path that cannot be created, a foreign or
 * damaged file) rejects the calls waiting for it with the store's error, and the next call opens again — the user
 * fixes the cause, the session recovers, no restart.
 *
 * Once open, the core does the server's `background` work (sweeps, the runner), stopped before the store closes.
 */
export function coreLoader(openCore: () => Promise<Core>, log: (line: string) => void, background?: (core: Core) => Promise<{ stop(): Promise<void> }>): CoreLoader {
  let loading: Promise<Core> | undefined;
  let working: Promise<{ stop(): Promise<void> } | undefined> | undefined;
  const open = async () => {
    const core = await openCore();
    working = background?.(core).catch((error) => {
      log(`background work failed to start: ${(error as Error)?.stack ?? error}`);
      return undefined;
    });
    return core;
  };
  return {
    core: () =>
      (loading ??= open().catch((error) => {
        loading = undefined;
        throw error;
      })),
    async close() {
      // An open under way finishes first: its background work then exists and is stopped before the store closes.
      const core = await loading?.catch(() => undefined);
      await (await working)?.stop().catch((error) => log(`stopping background work failed: ${error}`));
      await core?.close().catch(() => {});
    },
  };
}
