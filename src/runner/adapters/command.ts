import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describeReasons } from '../../core/wakeReasons.js';
import type { CommandAdapter } from '../../core/wakeAdapter.js';
import type { AdapterResult, WakeJob } from '../job.js';
import { OUTPUT_TAIL, tail } from '../job.js';

/** After a timeout's SIGTERM, how long the process group has before SIGKILL. */
const KILL_GRACE_MS = 3_000;
/** After the program exits, how long what it started may keep its output open before being killed. */
const STRAGGLER_GRACE_MS = 2_000;

/**
 * The environment of an agent's program: the runner's own (PATH, HOME, API keys of the agent's CLI), the adapter's
 * `env`, then team-table's — last, so that no configuration can make a run act as someone else. The runner's own
 * TEAM_TABLE_* (an owner's name, another identity) are not passed on.
 */
export async function agentEnv(job: WakeJob, extra: Record<string, string> = {}): Promise<{ env: Record<string, string>; release: () => Promise<void> }> {
  const { agent, run } = job.started;
  const inherited = Object.fromEntries(Object.entries(job.env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('TEAM_TABLE_')));
  const connection: Record<string, string> = {};
  let release = async () => {};
  // Both when both are known: a client configured for stdio (the recipes) still finds the database file.
  if (job.connection.db) connection.TEAM_TABLE_DB = job.connection.db;
  if (job.connection.url && job.connection.tokenFor) {
    const token = await job.connection.tokenFor(agent.id);
    connection.TEAM_TABLE_URL = job.connection.url;
    connection.TEAM_TABLE_TOKEN = token.token;
    if (token.release) release = token.release;
  }
  const env = {
    ...inherited,
    ...extra,
    ...connection,
    TEAM_TABLE_AGENT: agent.id,
    TEAM_TABLE_PROMPT: job.prompt,
    TEAM_TABLE_MODEL: job.model,
    TEAM_TABLE_WORKSPACE: job.workspace,
    TEAM_TABLE_SESSION: run.session_id,
    TEAM_TABLE_RUN: run.id,
    TEAM_TABLE_REASONS: describeReasons(run.reasons),
    // A `serve` the agent's client starts must not compete to be the scheduler.
    TEAM_TABLE_RUNNER: 'off',
  };
  return { env, release };
}

/** Keeps the last `max` characters of a stream without holding all of it. */
function collector(max: number) {
  let text = '';
  return {
    add(chunk: Buffer) {
      text += chunk.toString('utf8');
      if (text.length > max * 2) text = text.slice(-max);
    },
    get text() {
      return tail(text, max);
    },
  };
}

/**
 * `command`: spawns the agent's program (no shell) in its own process group, with the heartbeat prompt on stdin
 * and in TEAM_TABLE_PROMPT; its output is kept (the tail), its exit code recorded. At the timeout — or when the
 * scheduler stops — the whole process group is terminated, then killed, so no grandchild outlives the run.
 */
export async function runCommand(job: WakeJob, config: CommandAdapter): Promise<AdapterResult> {
  const [program, ...args] = config.command as [string, ...string[]];
  const base = job.workspace || process.cwd();
  const cwd = config.cwd ? resolve(base, config.cwd) : base;
  const { env, release } = await agentEnv(job, config.env);
  try {
    return await spawnRun(job, config, program, args, cwd, env);
  } finally {
    await release();
  }
}

function spawnRun(job: WakeJob, config: CommandAdapter, program: string, args: string[], cwd: string, env: Record<string, string>): Promise<AdapterResult> {
  const stdout = collector(OUTPUT_TAIL);
  const stderr = collector(OUTPUT_TAIL);
  return new Promise<AdapterResult>((done) => {
    let ended: 'timed_out' | 'interrupted' | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const later = (ms: number, action: () => void) => timers.push(setTimeout(action, ms).unref());
    const child = spawn(program, args, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    // Signals go to the group only while the run is under way: once it has closed, a later signal could reach a
    // new group that reused the id.
    const group = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const terminate = (why: 'timed_out' | 'interrupted') => {
      ended ??= why;
      group('SIGTERM');
      later(KILL_GRACE_MS, () => group('SIGKILL'));
    };
    later(config.timeout_seconds * 1_000, () => terminate('timed_out'));
    const onAbort = () => terminate('interrupted');
    job.signal.addEventListener('abort', onAbort, { once: true });
    if (job.signal.aborted) onAbort(); // stopped while the run was being prepared
    const finish = (result: AdapterResult) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      job.signal.removeEventListener('abort', onAbort);
      done(result);
    };

    child.stdout.on('data', (chunk: Buffer) => stdout.add(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));
    // A program that does not read its stdin closes it early: not an error of the run.
    child.stdin.on('error', () => {});
    child.stdin.end(job.prompt);
    child.on('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ENOENT' ? `cannot start '${program}': not found (cwd ${cwd})` : `cannot start '${program}': ${error.message}`;
      finish({ status: 'failed', exit_code: null, output: stdout.text, stderr: stderr.text, error: why });
    });
    // The program may leave children holding its output open: give them a moment, then end the group.
    child.on('exit', () => later(STRAGGLER_GRACE_MS, () => group('SIGKILL')));
    child.on('close', (code, signal) => {
      group(ended ? 'SIGKILL' : 'SIGTERM'); // whatever of the run is left
      if (ended === 'timed_out') {
        return finish({ status: 'timed_out', exit_code: code, output: stdout.text, stderr: stderr.text, error: `killed after its timeout of ${config.timeout_seconds} s` });
      }
      if (ended === 'interrupted') return finish({ status: 'interrupted', exit_code: code, output: stdout.text, stderr: stderr.text, error: 'the scheduler stopped' });
      const failed = code !== 0;
      finish({
        status: failed ? 'failed' : 'succeeded',
        exit_code: code,
        output: stdout.text,
        stderr: stderr.text,
        error: failed ? (signal ? `killed by ${signal}` : `exit code ${code}`) : '',
      });
    });
  });
}
