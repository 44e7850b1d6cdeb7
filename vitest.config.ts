import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Two projects: every suite on SQLite, and, with TEAM_TABLE_TEST_PG set, the suites where the dialect matters again
 * on that PostgreSQL database (each test database a fresh schema of it): the store, the core's writes (tasks,
 * claims, the state machine, mail, memory, search, definitions kept between calls), MCP end to end over stdio (several processes) and HTTP, the
 * HTTP push stream, the seed's and the roadmap's examples, and what only PostgreSQL has (test/store/postgres.test.ts, test/replicas/). Left to SQLite:
 * input validation, answer sizes, permissions, the protocol's edge cases, the CLI and the runner — code above
 * the store that reads and writes it through the same Kysely queries (a PostgreSQL test database costs a schema and
 * ten migrations, about 0.2 s, where SQLite's costs a file).
 *
 * At least two files at a time: Vitest's default, one fewer than the cores, runs one at a time on a two-core machine,
 * while most files spend their time waiting on the servers and browsers they spawn (`npm test` 506 s against 733 s
 * on such a machine, every test passing either way).
 */
const PG_SUITES = [
  'test/store/store.test.ts',
  'test/store/feed.test.ts',
  'test/store/leader.test.ts',
  'test/store/postgres.test.ts',
  'test/core/{claims,tasks,state-machine,comm,memory,search,definitions}.test.ts',
  'test/mcp/{seed-examples,roadmap-examples,claim-race,multiprocess,delivery,resources,bounded,http}.test.ts',
  'test/http/{events,rest}.test.ts',
  'test/replicas/**/*.test.ts',
];
const PG_ONLY = ['test/store/postgres.test.ts', 'test/replicas/**/*.test.ts'];

const pg = process.env.TEAM_TABLE_TEST_PG;
if (!pg) console.warn('TEAM_TABLE_TEST_PG is not set: the PostgreSQL project is skipped (SQLite only).');

const shared = { pool: 'forks' as const, testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      { test: { ...shared, name: 'sqlite', include: ['test/**/*.test.ts'], exclude: PG_ONLY } },
      ...(pg ? [{ test: { ...shared, name: 'postgres', include: PG_SUITES, env: { TEAM_TABLE_TEST_DIALECT: 'postgres' } } }] : []),
    ],
  },
});
