import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../../src/core/core.js';
import { Store } from '../../src/store/store.js';
import { OWNER, serveMcpHttp, tempDbPath, tokenProxy } from '../helpers.js';

/**
 * The official MCP conformance suite against MCP over HTTP, served as the HTTP server mounts it (Host/Origin checks,
 * a bearer token per actor). The suite sends no Authorization header: a local proxy adds the owner's token —
 * authentication stays on.
 *
 * It runs every scenario that applies to a server with this server's capabilities (tools; resources with
 * subscriptions; no prompts, completions or logging), each at the protocol revision it is written for; docs/mcp.md
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
  ['dns-rebinding-protection', '2025-11-25'],
  ['server-stateless', '2026-07-28'],
  ['tools-list', '2026-07-28'],
  ['resources-list', '2026-07-28'],
  ['sep-2164-resource-not-found', '2026-07-28'],
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
  let store: Store;
  let close: () => Promise<void>;
  beforeAll(async () => {
    store = await Store.open(tempDbPath());
    const core = new Core(store);
    await core.call(OWNER, 'team_manage', { action: 'create', name: 'Conformance' });
    await core.call(OWNER, 'team_agent', { action: 'create', name: 'Probe' });
    const http = await serveMcpHttp(core, { 'owner-token': OWNER }, { persistent: true });
    close = http.close;
    url = await tokenProxy(http.url, 'owner-token', { persistent: true });
  });
  afterAll(async () => {
    await close?.();
    await store?.close();
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
