import type { Kysely } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import type { Migration } from './index.js';
import { runRowSteps } from './steps.js';

/**
 * A fact's versions are read by its team, namespace and key — the last version number when it is saved, its history,
 * an earlier version `fact_get` names — and were keyed by the fact's id only (a fact deleted and saved again is a new
 * row continuing the same versions), so each of those reads went through every fact version of the database: a save
 * grew slower with every fact ever saved. It showed on PostgreSQL when every write was set to read by index only.
 */
export const factVersionsByKey: Migration = {
  version: 21,
  name: 'fact_versions_by_key',
  async up(db: Kysely<any>, dialect: StoreDialect, progress) {
    await runRowSteps(
      db,
      dialect,
      [
        {
          doing: 'indexing the versions by key of',
          table: 'team_fact_versions',
          async run(tx) {
            await tx.schema.createIndex('fact_versions_by_key').on('team_fact_versions').columns(['team_id', 'namespace', 'key', 'version']).execute();
          },
        },
      ],
      'fact versions indexed by key',
      progress,
    );
  },
};
