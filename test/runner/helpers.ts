import { resolve } from 'node:path';
import { afterEach } from 'vitest';
import type { Core } from '../../src/core/core.js';
import { Scheduler } from '../../src/runner/scheduler.js';
import type { SchedulerOptions } from '../../src/runner/scheduler.js';

export const FAKE_AGENT = resolve(import.meta.dirname, 'fixtures/fake-agent.mjs');

/** A `command` wake adapter running the fake agent in `mode` (see fixtures/fake-agent.mjs). */
export const fakeAgent = (mode: 'work' | 'gate' | 'hang' | 'fail', env: Record<string, string> = {}, timeout_seconds = 60) => ({
  type: 'command' as const,
  command: [process.execPath, FAKE_AGENT],
  env: { FAKE_MODE: mode, ...env },
  timeout_seconds,
});

export { waitFor } from '../helpers.js';

const schedulers: Scheduler[] = [];
afterEach(async () => {
  for (const scheduler of schedulers.splice(0)) await scheduler.stop();
});

/** A scheduler on `core` (stopped after the test), started: the only one on its database leads at once. */
export async function startScheduler(core: Core, db: string, options: SchedulerOptions = {}): Promise<Scheduler> {
  const scheduler = new Scheduler(core, { db, coalesceMs: 20, ...options });
  schedulers.push(scheduler);
  await scheduler.start();
  return scheduler;
}
