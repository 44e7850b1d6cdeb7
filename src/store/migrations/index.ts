import type { Kysely } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import { core } from './001_core.js';
import { taskFlow } from './002_task_flow.js';
import { governance } from './003_governance.js';
import { readyQueue } from './004_ready_queue.js';
import { leases } from './005_leases.js';
import { hardening } from './006_hardening.js';
import { runner } from './007_runner.js';
import { tokens } from './008_tokens.js';
import { notificationDelivery } from './009_notification_delivery.js';
import { search } from './010_search.js';
import { scaleIndexes } from './011_scale_indexes.js';
import { rateLimits } from './012_rate_limits.js';
import { unsentDeliveries } from './013_unsent_deliveries.js';
import { flatReads } from './014_flat_reads.js';
import { definitionsStamp } from './015_definitions_stamp.js';
import { doneByDayIndex } from './016_done_by_day_index.js';
import { deliveriesByNotification } from './017_deliveries_by_notification.js';
import { fewerTreesPerWrite } from './018_fewer_trees_per_write.js';
import { freshDeliveries } from './019_fresh_deliveries.js';
import { openWorkIndexes } from './020_open_work_indexes.js';
import { factVersionsByKey } from './021_fact_versions_by_key.js';

export type MigrationProgress = (step: string, done: number, total: number) => void;

/** One forward-only step of the schema. Numbers are consecutive; a step never changes once released. */
export interface Migration {
  version: number;
  name: string;
  /** `progress`, when given, hears of long work (rows of a backfill done of the total). */
  up(db: Kysely<any>, dialect: StoreDialect, progress?: MigrationProgress): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [core, taskFlow, governance, readyQueue, leases, hardening, runner, tokens, notificationDelivery, search, scaleIndexes, rateLimits, unsentDeliveries, flatReads, definitionsStamp, doneByDayIndex, deliveriesByNotification, fewerTreesPerWrite, freshDeliveries, openWorkIndexes, factVersionsByKey];
