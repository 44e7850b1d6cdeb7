import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { CLI, tempDbPath } from '../helpers.js';

const run = promisify(execFile);

/** The seed's example, as devclaw-teams.md shows it under "Configuration". */
const SEED_EXAMPLE = `notifications:
  enabled: true
  defaults:
    activity_feed: true
    owner: false
  quiet_hours:
    enabled: true
    start: "22:00"
    end: "08:00"
    timezone: "America/Sao_Paulo"
  rate_limit_per_hour: 20
  rules:
    - name: "Critical Alerts"
      enabled: true
      events: [task_failed, agent_error]
      destinations:
        - type: channel
          channel: "whatsapp"
          chat_id: "120363XXXXXX@g.us"
      priority: 1
`;

async function check(text: string, env: Record<string, string> = {}) {
  const db = tempDbPath();
  writeFileSync(join(dirname(db), 'team-table.yaml'), text);
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'config', 'check', '--db', db], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('the config file', () => {
  it("reads the seed's config.yaml example", async () => {
    const settings = await parseConfig(SEED_EXAMPLE, 'config.yaml');
    expect(settings).toMatchObject({
      enabled: true,
      defaults: { activity_feed: true, owner: false },
      quiet_hours: { enabled: true, start: '22:00', end: '08:00', timezone: 'America/Sao_Paulo' },
      rate_limit_per_hour: 20,
      rules: [{ name: 'Critical Alerts', enabled: true, events: ['task_failed', 'agent_error'], destinations: [{ type: 'channel', channel: 'whatsapp', chat_id: '120363XXXXXX@g.us' }], priority: 1 }],
    });
    const result = await check(SEED_EXAMPLE);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/team-table\.yaml: ok\n/);
    expect(result.stdout).toContain('rules: 1 (Critical Alerts)');
    expect(result.stdout).toContain('quiet hours: 22:00–08:00 America/Sao_Paulo');
  });

  it('names every invalid field with its line, and exits 2', async () => {
    const text = SEED_EXAMPLE.replace('timezone: "America/Sao_Paulo"', 'timezone: "Mars/Olympus"').replace('      priority: 1', '      priority: 9\n      colour: red');
    const result = await check(text);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('team-table.yaml:10: notifications.quiet_hours.timezone: must be an IANA time zone such as America/Sao_Paulo');
    expect(result.stderr).toMatch(/team-table\.yaml:13: notifications\.rules\.0: .*colour/);
    expect(result.stderr).toMatch(/team-table\.yaml:20: notifications\.rules\.0\.priority: .*5/);
    expect(result.stderr).toContain('3 problems');
    await expect(parseConfig(text, 'x.yaml')).rejects.toThrow(/^x\.yaml:10: notifications\.quiet_hours\.timezone must be an IANA time zone .*\(and 2 more: line \d+ notifications\.rules\.0/);
  });

  it('refuses broken YAML, a template with a missing field, and an owner default with nowhere to go', async () => {
    await expect(parseConfig('notifications:\n  rules: [\n', 'a.yaml')).rejects.toThrow(/^a\.yaml:\d+: not valid YAML/);
    await expect(parseConfig('notifications:\n  rules:\n    - name: x\n      events: [task_failed]\n      destinations: [{type: activity}]\n      template: "{{ nope }}"\n', 'b.yaml')).rejects.toThrow(/^b\.yaml:6: notifications\.rules\.0\.template refers to \{\{ nope \}\}/);
    await expect(parseConfig('notifications:\n  defaults:\n    owner: true\n', 'c.yaml')).rejects.toThrow(/^c\.yaml:3: notifications\.defaults\.owner is true, but notifications\.owner_destination/);
    await expect(parseConfig('notification:\n  enabled: true\n', 'd.yaml')).rejects.toThrow(/'notification' is not a parameter/);
  });

  it('warns of environment variables the config names that are not set', async () => {
    const text = 'notifications:\n  channels:\n    slack: { url_env: SLACK_HOOK_FOR_TEST }\n';
    expect((await check(text)).stdout).toContain('warning: SLACK_HOOK_FOR_TEST is not set in this environment');
    expect((await check(text, { SLACK_HOOK_FOR_TEST: 'https://hooks.example/x' })).stdout).not.toContain('warning');
  });

  it('shipped in docs/notifications.md is accepted', async () => {
    const docs = readFileSync(new URL('../../docs/notifications.md', import.meta.url), 'utf8');
    const example = /```yaml\n(notifications:[\s\S]*?)```/.exec(docs)![1]!;
    const result = await check(example);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
