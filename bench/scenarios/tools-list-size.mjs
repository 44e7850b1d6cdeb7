#!/usr/bin/env node
// Tool list size: what the tool definitions cost in an agent's context. Spawns the server with the
// SDK client, calls tools/list, and measures the JSON of the `tools` array (JSON.stringify, no
// whitespace), in bytes and in estimated tokens. Baseline: the minimal SDK server's one tool.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { CLI, MINIMAL_SERVER, describeMachine, runIfMain, passFail, printTable, writeResult } from '../lib.mjs';

export const name = 'tools-list-size';
const GOAL_TOKENS = 4000;
const ESTIMATOR = 'tokens ≈ ceil(UTF-8 bytes / 4)';
const bytes = (value) => Buffer.byteLength(JSON.stringify(value), 'utf8');
const tokens = (n) => Math.ceil(n / 4);

/** Connects an SDK client to `node ...args` and returns the tools and the server's instructions. */
async function listTools(args) {
  const transport = new StdioClientTransport({ command: process.execPath, args, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => (stderr += d));
  const client = new Client({ name: 'bench', version: '0' });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    return { tools, instructions: client.getInstructions() ?? '' };
  } catch (error) {
    throw new Error(`${args.join(' ')}: ${error.message}\n${stderr}`);
  } finally {
    await client.close().catch(() => {});
  }
}

function measure(label, tools) {
  const total = bytes(tools);
  return {
    label,
    tool_count: tools.length,
    bytes: total,
    est_tokens: tokens(total),
    per_tool: tools.map((t) => ({ name: t.name, bytes: bytes(t), est_tokens: tokens(bytes(t)) })),
  };
}

export async function run() {
  console.log(`\n== tools-list-size: JSON of the tools/list \`tools\` array (${ESTIMATOR})`);
  console.log(`   ${describeMachine()}`);

  const dir = mkdtempSync(join(tmpdir(), 'tt-bench-'));
  let teamTable;
  try {
    teamTable = await listTools([CLI, 'serve', '--db', join(dir, 'team.db')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const minimal = await listTools([MINIMAL_SERVER]);

  const tt = measure('team-table', teamTable.tools);
  const base = measure('minimal SDK server', minimal.tools);
  const instructionsBytes = Buffer.byteLength(teamTable.instructions, 'utf8');

  printTable(
    'tools/list size per tool',
    ['server / tool', 'bytes', 'est. tokens'],
    [
      ...tt.per_tool.map((t) => [`team-table ${t.name}`, String(t.bytes), String(t.est_tokens)]),
      [`team-table, all ${tt.tool_count} tools (array)`, String(tt.bytes), String(tt.est_tokens)],
      ...base.per_tool.map((t) => [`minimal SDK server ${t.name} (baseline)`, String(t.bytes), String(t.est_tokens)]),
      [`minimal SDK server, all ${base.tool_count} tool${base.tool_count === 1 ? "" : "s"} (array)`, String(base.bytes), String(base.est_tokens)],
    ],
  );
  console.log(`\n  not counted above: team-table initialize instructions ${instructionsBytes} bytes ≈ ${tokens(instructionsBytes)} tokens`);

  const goal = { goal: `all tools ≤ ${GOAL_TOKENS} est. tokens`, est_tokens: tt.est_tokens, pass: tt.est_tokens <= GOAL_TOKENS };
  console.log(`  goal team-table tools: ${tt.est_tokens} est. tokens (≤ ${GOAL_TOKENS}) ${passFail(goal.pass)}`);

  const file = writeResult(name, {
    estimator: ESTIMATOR,
    goal_tokens: GOAL_TOKENS,
    team_table: tt,
    minimal_sdk: base,
    team_table_instructions: { bytes: instructionsBytes, est_tokens: tokens(instructionsBytes) },
    goals: [goal],
  });
  console.log(`  -> ${file}`);
  return { name, goals: [goal] };
}

runIfMain(import.meta.url, run);
