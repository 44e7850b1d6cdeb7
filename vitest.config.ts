import { defineConfig } from 'vitest/config';

/**
 * Two projects: every suite on SQLite, and the suites that must behave the same on both dialects again on the
 * PostgreSQL database TEAM_TABLE_TEST_PG (each test database a fresh schema of it). The file-specific suites
 * (refusals of broken files, backup, kill -9 of a writer, the CLI's file handling) and the runner's (whose store
 * code is shared and whose time goes to spawning agents) run on SQLite only, which keeps `npm test` near 8 minutes.
 */
const PG_SUITES = [
  'test/core/**/*.test.ts',
  'test/store/store.test.ts',
  'test/store/feed.test.ts',
  'test/store/leader.test.ts',
  'test/store/postgres.test.ts',
  'test/mcp/protocol.test.ts',
  'test/mcp/http.test.ts',
  'test/mcp/claim-race.test.ts',
  'test/mcp/multiprocess.test.ts',
  'test/mcp/resources.test.ts',
  'test/mcp/delivery.test.ts',
  'test/http/**/*.test.ts',
  'test/replicas/**/*.test.ts',
];
const PG_ONLY = ['test/store/postgres.test.ts', 'test/replicas/**/*.test.ts'];

const pg = process.env.TEAM_TABLE_TEST_PG;
if (!pg) console.warn('TEAM_TABLE_TEST_PG is not set: the PostgreSQL project is skipped (SQLite only).');

const shared = { pool: 'forks' as const, testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'sqlite', include: ['test/**/*.test.ts'], exclude: PG_ONLY } },
      ...(pg ? [{ test: { ...shared, name: 'postgres', include: PG_SUITES, env: { TEAM_TABLE_TEST_DIALECT: 'postgres' } } }] : []),
    ],
  },
});
