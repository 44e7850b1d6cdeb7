// Shared by the scenarios that drive servers over stdio: a session through the SDK's client, and a backlog of
// tasks written straight into a database file.
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

/**
 * A client session with a spawned `node …args` over stdio; `stderr()` is the server's last 5,000 characters of
 * log. The tools are listed once: the client caches the output schemas it validates answers against.
 */
export async function connect(args) {
  const transport = new StdioClientTransport({ command: process.execPath, args, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => (stderr = `${stderr}${d}`.slice(-5000)));
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(transport);
  await client.listTools();
  return { client, stderr: () => stderr };
}

/** `count` inbox tasks of team `teamId` written straight into the file (priorities cycling 1…5, 1 ms apart). */
export function insertBacklog(db, teamId, count) {
  const raw = new Database(db, { timeout: 30_000 });
  try {
    const insert = raw.prepare('INSERT INTO team_tasks (id, team_id, title, priority, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const base = Date.now() - count - 60_000;
    raw.transaction(() => {
      for (let i = 0; i < count; i++) {
        const at = new Date(base + i).toISOString();
        insert.run(`b${randomBytes(6).toString('hex')}`, teamId, `task ${i}`, 1 + (i % 5), 'bench', at, at);
      }
    })();
  } finally {
    raw.close();
  }
}
