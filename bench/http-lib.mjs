// Helpers for the HTTP benchmarks: a spawned `serve --http` on port 0, a database seeded through the core,
// raw SSE streams over node's http (cheap enough to open thousands from one process), the server's RSS.
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, ROOT } from './lib.mjs';

export const freshDb = () => join(mkdtempSync(join(tmpdir(), 'tt-bench-http-')), 'team.db');

/** Opens the built core on `db` (the benchmark's own connection to the file). */
export async function openCore(db) {
  const [{ Store }, { Core }] = await Promise.all([import(join(ROOT, 'dist/store/store.js')), import(join(ROOT, 'dist/core/core.js'))]);
  return new Core(await Store.open(db));
}

/** A team `Bench` with Jarvis (lead) and Loki, made through the core; answers the owner actor. */
export async function seedBench(core) {
  const owner = { kind: 'owner', name: 'bench' };
  await core.call(owner, 'team_manage', { action: 'create', name: 'Bench' });
  await core.call(owner, 'team_agent', { action: 'create', name: 'Jarvis', level: 'lead' });
  await core.call(owner, 'team_agent', { action: 'create', name: 'Loki' });
  return owner;
}

/** `serve --http 127.0.0.1:0` on `db`, rate limit off; resolves with its URL (read from the `listening on` line) and pid. */
export const startServer = (db, args = []) => spawnListening([CLI, 'serve', '--db', db, '--http', '127.0.0.1:0', '--rate-limit', '0', ...args]);

/** Spawns node with `args` and resolves once it prints `listening on URL` on stderr. */
export function spawnListening(args) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve({ url: match[1], pid: child.pid, child, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) });
    });
    child.once('exit', (code) => reject(new Error(`node ${args.join(' ')} exited (${code}): ${stderr}`)));
  });
}

/** Resident set size of process `pid`, in KiB. */
export function rssKib(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]);
}

/**
 * An SSE stream over node's http: calls `onEvent(id, data, receivedAt)` for each log event (those with an id).
 * Resolves once the `connected` event has arrived.
 */
export function openStream(url, token, onEvent, query = '') {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/events${query}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
      res.setEncoding('utf8');
      let buffer = '';
      let connected = false;
      res.on('data', (chunk) => {
        const at = performance.now();
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (\d+)$/m.exec(frame)?.[1];
          if (!connected && frame.includes('event: connected')) {
            connected = true;
            resolve({ close: () => req.destroy() });
          } else if (id) onEvent(Number(id), frame.slice(frame.indexOf('data: ') + 6), at);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A JSON POST over a kept-alive connection. */
export async function post(url, token, body) {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}
