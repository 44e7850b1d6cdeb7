import type { Command } from 'commander';
import { TeamTableError } from '../core/errors.js';
import type { NotificationSettings } from '../core/notificationConfig.js';
import { configOption, dbOption, log, openCore } from './common.js';

/**
 * `team-table config check` — reads the config file as a server would and says what it found, or every problem
 * with its line — and `team-table sender`, the notification sender on its own (for deployments whose agents only
 * use `call`, or that want the sending in a process of its own).
 */



/** Environment variables the config names that this environment does not set: a sender here could not use them. */
function unsetVariables(settings: NotificationSettings, env: Record<string, string | undefined>): string[] {
  const names = new Set<string>();
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key.endsWith('_env') && typeof inner === 'string') names.add(inner);
        else visit(inner);
      }
    }
  };
  visit(settings);
  return [...names].filter((name) => !env[name]).sort();
}

export function registerNotificationCommands(program: Command): void {
  const config = program.command('config').description('the config file (team-table.yaml): notifications, rules, channels');
  config
    .command('check')
    .description('check the config file: every problem is named with its field and line (exit 2)')
    .addOption(dbOption())
    .addOption(configOption())
    .action(async (options: { db: string; config?: string }) => {
      const { defaultConfigPath, loadConfig } = await import('../config/load.js');
      let loaded;
      try {
        loaded = await loadConfig(options);
      } catch (error) {
        const problems = error instanceof TeamTableError ? (error.details.problems as { line: number; field: string; message: string }[] | undefined) : undefined;
        if (!problems?.length) throw error;
        const file = options.config ?? defaultConfigPath(options.db);
        for (const p of problems) process.stderr.write(`${file}:${p.line}: ${p.field}: ${p.message}\n`);
        process.stderr.write(`${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was changed\n`);
        process.exitCode = 2;
        return;
      }
      const n = loaded.notifications;
      const lines = [
        `${loaded.path ?? 'no config file: the defaults apply'}: ok`,
        `notifications ${n.enabled ? 'on' : 'off'}; activity feed ${n.defaults.activity_feed ? 'on' : 'off'}; owner ${n.defaults.owner ? 'on' : 'off'}`,
        `quiet hours: ${n.quiet_hours?.enabled ? `${n.quiet_hours.start}–${n.quiet_hours.end} ${n.quiet_hours.timezone}${n.quiet_hours.days ? ` on days ${n.quiet_hours.days.join(',')}` : ''}` : 'none'}`,
        `rate limit: ${n.rate_limit_per_hour ? `${n.rate_limit_per_hour} an hour` : 'none'}`,
        `rules: ${n.rules.length}${n.rules.length ? ` (${n.rules.map((r) => r.name).join(', ')})` : ''}`,
        `channels: ${Object.keys(n.channels).join(', ') || 'none defined'}`,
        ...unsetVariables(n, process.env).map((name) => `warning: ${name} is not set in this environment; the sender needs it`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  program
    .command('sender')
    .description('run only the notification sender (one process per database sends; others wait their turn)')
    .addOption(dbOption())
    .addOption(configOption())
    .action(async (options: { db: string; config?: string }) => {
      const { startNotificationSender } = await import('../outbox/sender.js');
      const core = await openCore(options.db, options.config);
      const sender = await startNotificationSender(core, { log });
      log(`notification sender for ${options.db} started (${sender.isSending ? 'sending' : 'waiting for the lead'})`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await sender.stop();
      await core.close();
    });
}
