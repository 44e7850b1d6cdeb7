import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileCore, startServer, tokenFor } from '../http/helpers.js';
import { OWNER, tokenProxy } from '../helpers.js';

/**
 * The official MCP conformance suite against the real `team-table serve --http` (Host/Origin checks, bearer tokens,
 * MCP at /mcp). The suite sends no Authorization header: a local proxy adds an owner token — authentication stays
 * on. (The rate limit is off: the suite sends more requests a minute than an agent would.)
 *
 * It runs every scenario that applies to a server with this server's capabilities (tools; resources with
 * subscriptions; one prompt, `heartbeat`; no completions or logging), each at the protocol revision it is written for; docs/mcp.md
 * lists the others and why they do not apply. Checks that need the suite's fixture server are in
 * conformance-baseline.yml. The suite needs Node 22 (`npx -p node@22`) and is fetched from the npm registry, so it
 * runs with `npm run test:conformance` (`.ci/run` does), not in every `npm test`.
 */
const CONFORMANCE = '@modelcontextprotocol/conformance@0.2.0-alpha.12';
const BASELINE = new URL('./conformance-baseline.yml', import.meta.url).pathname;
const SCENARIOS: [scenario: string, revision: string][] = [
  ['server-initialize', '2025-11-25'],
  ['server-session-lifecycle', '2025-11-25'],
  ['ping', '2025-11-25'],
  ['tools-list', '2025-11-25'],
  ['resources-list', '2025-11-25'],
  ['resources-subscribe', '2025-11-25'],
  ['resources-unsubscribe', '2025-11-25'],
  ['prompts-list', '2025-11-25'],
  ['dns-rebinding-protection', '2025-11-25'],
  ['server-stateless', '2026-07-28'],
  ['tools-list', '2026-07-28'],
  ['resources-list', '2026-07-28'],
  ['sep-2164-resource-not-found', '2026-07-28'],
  ['prompts-list', '2026-07-28'],
  ['server-sse-multiple-streams', '2026-07-28'],
  ['dns-rebinding-protection', '2026-07-28'],
  ['caching', '2026-07-28'],
  ['http-header-validation', '2026-07-28'],
];

function runScenario(url: string, scenario: string, revision: string, outputDir: string) {
  const args = ['-y', '-p', 'node@22', '-p', CONFORMANCE, '--', 'conformance', 'server', '--url', url, '--scenario', scenario, '--spec-version', revision];
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile('npx', [...args, '--expected-failures', BASELINE, '--output-dir', outputDir], { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, output: `${stdout}\n${stderr}` });
    });
  });
}

/** The checks a scenario wrote to `<outputDir>/server-<scenario>-<time>/checks.json`. */
function checksOf(outputDir: string, scenario: string): { id: string; status: string; errorMessage?: string }[] {
  const dir = readdirSync(outputDir).find((name) => name.startsWith(`server-${scenario}-`));
  return dir ? JSON.parse(readFileSync(join(outputDir, dir, 'checks.json'), 'utf8')) : [];
}

const baselined = new Set([...readFileSync(BASELINE, 'utf8').matchAll(/^\s*-\s*(\S+)/gm)].map((m) => m[1]));

describe.skipIf(!process.env.TEAM_TABLE_CONFORMANCE)('the MCP conformance suite (npm run test:conformance)', () => {
  let url: string;
  beforeAll(async () => {
    const t = await fileCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Conformance' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Probe' });
    const { token } = await tokenFor(t, { owner: true });
    const server = await startServer(t.path, ['--rate-limit', '0']);
    url = await tokenProxy(`${server.url}/mcp`, token, { persistent: true });
  });

  it.each(SCENARIOS)('%s at %s passes', async (scenario, revision) => {
    const outputDir = mkdtempSync(join(tmpdir(), 'tt-conformance-'));
    const { code, output } = await runScenario(url, scenario, revision, outputDir);
    const checks = checksOf(outputDir, scenario);
    const unexpected = checks.filter((c) => (c.status === 'FAILURE' || c.status === 'WARNING') && !baselined.has(`${scenario}:${c.id}`));
    expect({ code, unexpected }, output).toEqual({ code: 0, unexpected: [] });
    expect(checks.length, output).toBeGreaterThan(0);
  }, 240_000);
});
