import { describe, expect, it } from 'vitest';
import { authenticate } from '../../src/core/tokens.js';
import { perRunTokens } from '../../src/runner/start.js';
import { OWNER, openCore, spawnSession } from '../helpers.js';
import { startScheduler, waitFor } from './helpers.js';

const PRINT_ENV = { type: 'command', command: ['sh', '-c', 'cat > /dev/null; env | grep ^TEAM_TABLE_ | grep -v PROMPT | sort'] };

describe('where the runner runs', () => {
  it('inside serve: a session of the owner wakes the agents, unless TEAM_TABLE_RUNNER=off', async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Siri', heartbeat_schedule: '0 0 1 1 *', wake_adapter: PRINT_ENV });
    const quiet = await spawnSession(t.path, { env: { TEAM_TABLE_RUNNER: 'off' } });
    await quiet.call('team_comm', { action: 'send_message', to_agent: 'siri', content: 'hello' });
    await quiet.call('team_agent', { action: 'wake', agent_id: 'siri' });
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await quiet.call('team_agent', { action: 'runs', agent_id: 'siri' })).runs.map((r: any) => r.status)).toEqual(['queued']);

    // The first scheduler of a database starts reading the log at its head (the message is not replayed) and
    // starts what is queued.
    const session = await spawnSession(t.path);
    const { runs } = await waitFor(() => session.call('team_agent', { action: 'runs', agent_id: 'siri' }), (r: any) => r.runs[0]?.status === 'succeeded', 'the run started by serve');
    expect(runs).toHaveLength(1);
    expect(runs[0].reasons.map((r: any) => r.kind)).toEqual(['manual']);
    expect(runs[0].output).toContain(`TEAM_TABLE_DB=${t.path}\n`);
    expect(runs[0].output).toContain('TEAM_TABLE_AGENT=siri\n');
  });

  it('behind the HTTP server: the agent gets the URL and a token of its own for the run, released after it', async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Siri', wake_adapter: PRINT_ENV });
    const released: string[] = [];
    await startScheduler(t.core, t.path, {
      url: 'http://127.0.0.1:9/mcp',
      tokenFor: async (agentId) => ({ token: `tt_for_${agentId}`, release: async () => void released.push(agentId) }),
      env: { PATH: process.env.PATH, TEAM_TABLE_OWNER: 'ana', TEAM_TABLE_TOKEN: 'tt_owner_must_not_leak' },
    });
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'siri' });
    const { runs } = await waitFor(() => t.call(OWNER, 'team_agent', { action: 'runs', agent_id: 'siri' }), (r: any) => r.runs[0]?.status === 'succeeded', 'the run');
    expect(runs[0].output).toContain('TEAM_TABLE_URL=http://127.0.0.1:9/mcp\n');
    expect(runs[0].output).toContain('TEAM_TABLE_TOKEN=tt_for_siri\n');
    // The database too, so that a client configured for stdio (the recipes) still finds it; never the runner's own.
    expect(runs[0].output).toContain(`TEAM_TABLE_DB=${t.path}\n`);
    expect(runs[0].output).not.toMatch(/TEAM_TABLE_OWNER|tt_owner_must_not_leak/);
    expect(released).toEqual(['siri']);
  });

  it("over HTTP each run's token is the agent's own, and is revoked when the run ends", async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Siri' });
    const { token, release } = await perRunTokens(t.core)('siri');
    expect((await authenticate(t.store.db, token)).actor).toMatchObject({ kind: 'agent', id: 'siri' });
    await release!();
    await expect(authenticate(t.store.db, token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'revoked' } });
  });

  it("revokes a run's token that its dead runner never released, when the next leader recovers the runs", async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Siri' });
    const { token } = await perRunTokens(t.core)('siri');
    const ownersOwn = (await t.call(OWNER, 'team_agent', { action: 'token_create', agent_id: 'siri', name: 'laptop' })) as { token: string };
    await t.core.runs.recover('the-next-leader');
    await expect(authenticate(t.store.db, token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'revoked' } });
    expect((await authenticate(t.store.db, ownersOwn.token)).actor).toMatchObject({ kind: 'agent', id: 'siri' });
  });
});
