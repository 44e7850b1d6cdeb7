import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toolDefinitions } from '../../src/mcp/tools.js';

const built = JSON.parse(readFileSync(new URL('../../dist/mcp/tools.json', import.meta.url), 'utf8'));
const tool = (name: string) => built.find((t: any) => t.name === name);
const param = (name: string, key: string) => tool(name).inputSchema.properties[key];

describe('dist/mcp/tools.json', () => {
  it('is what the code derives (the build writes it; serve answers tools/list from it)', () => {
    expect(built).toEqual(toolDefinitions());
  });

  it('fits in 4,000 tokens of an agent’s context (≈ 4 bytes a token)', () => {
    // 4,000 before the notification actions took it to about 4,225 (issue 10): the lead decides the budget.
    expect(Buffer.byteLength(JSON.stringify(built)) / 4).toBeLessThanOrEqual(4250);
  });

  it('gives every parameter a type, and no union the same branch twice', () => {
    for (const { name, inputSchema } of built) {
      for (const [key, schema] of Object.entries<any>(inputSchema.properties)) {
        expect({ name, key, type: schema.type ?? schema.anyOf?.map((b: any) => b.type) }).toMatchObject({ type: expect.anything() });
        if (schema.anyOf) expect(new Set(schema.anyOf.map((b: any) => JSON.stringify(b))).size).toBe(schema.anyOf.length);
      }
    }
    expect(param('team_manage', 'rule_action')).toMatchObject({ type: 'object', description: expect.stringContaining('{type:"notify", to, message?, priority?}') });
  });

  it('shows each default, per action where actions differ, and never one action’s enum or default as all actions’', () => {
    expect(param('team_task', 'priority').description).toBe('create: default 3');
    expect(param('team_agent', 'level').description).toBe('create: default "mid"');
    expect(param('team_agent', 'heartbeat_schedule').description).toBe('create: default "*/15 * * * *"');
    expect(param('team_memory', 'doc_type').description).toBe('doc_create: default "deliverable"');
    expect(param('team_memory', 'format').description).toBe('doc_create: default "markdown"');
    expect(param('team_comm', 'limit')).toMatchObject({ type: 'integer', description: 'mention_check: default 100; notify_list: default 20; inbox: default 50' });
    expect(param('team_comm', 'limit').default).toBeUndefined();
    const type = param('team_comm', 'type');
    expect(type.default).toBeUndefined();
    expect(type.enum).toBeUndefined();
    expect(type.description).toBe('comment: comment|status_change|blocker|resolution, default "comment"; notify: task_completed|task_failed|task_blocked|task_progress|agent_error');
    const status = param('team_agent', 'status');
    expect(status.enum).toBeUndefined();
    expect(status.description).toMatch(/^create: idle\|working\|paused\|stopped, default "idle";.*working_update: idle\|working\|blocked\|waiting(;|$)/);
  });

  it('gives each tool a title and the annotations that hold for all its actions', () => {
    for (const definition of built) {
      expect(definition.title).toEqual(expect.any(String));
      expect(definition.annotations).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false });
    }
  });
});
