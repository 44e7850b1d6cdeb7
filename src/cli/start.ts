import { spawn } from 'node:child_process';
import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { absoluteLocation } from '../store/location.js';
import { clientConfigs } from './clientConfig.js';
import type { HttpFlags } from './http.js';
import { runHttpServer } from './http.js';

/**
 * `team-table start` (`npm start`): opens or creates the database, makes the owner's first token if it never had
 * one, serves HTTP, and prints the dashboard's URL, that token (this once) and the client configuration for HTTP and
 * stdio; `--open` also opens the dashboard in a browser.
 * It keeps serving until stopped.
 */
export async function start(core: Core, owner: Actor, db: string, address: string, flags: HttpFlags & { open?: boolean }, log: (line: string) => void): Promise<void> {
  const ever = (await core.call(owner, 'team_agent', { action: 'token_list', owner: true, include_revoked: true, limit: 1 })) as { tokens: unknown[] };
  const ownerToken = ever.tokens.length ? undefined : ((await core.call(owner, 'team_agent', { action: 'token_create', owner: true, name: 'first start' })) as { token: string }).token;
  const { teams } = (await core.call(owner, 'team_manage', { action: 'list' })) as { teams: { id: string; name: string }[] };
  const agents: { id: string; team: string }[] = [];
  for (const team of teams) {
    const listed = (await core.call(owner, 'team_agent', { action: 'list', team_id: team.id })) as { agents: { id: string }[] };
    agents.push(...listed.agents.map((a) => ({ id: a.id, team: team.name })));
  }
  const server = await runHttpServer(core, db, address, flags, log);
  process.stdout.write(clientConfigs(absoluteLocation(db), teams, agents, { url: server.url, ownerToken }));
  if (flags.open) openInBrowser(`${server.url}/`, log);
}

/** `--open`: the platform's opener, detached; without one (a server, a container) the printed URL is enough. */
function openInBrowser(url: string, log: (line: string) => void): void {
  const [command, ...args] = process.platform === 'darwin' ? ['open', url] : process.platform === 'win32' ? ['cmd', '/c', 'start', '', url] : ['xdg-open', url];
  const child = spawn(command!, args, { detached: true, stdio: 'ignore' });
  child.on('error', (error) => log(`could not open a browser (${error.message}): open ${url} yourself`));
  child.unref();
}
