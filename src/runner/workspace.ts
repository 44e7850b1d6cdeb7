import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Core } from '../core/core.js';
import type { StartedRun } from '../core/runs.js';

/**
 * An agent's folder under its team's `workspace_path` (a relative path is read from the runner's working
 * directory): one folder per agent, named by its id, holding its working state as a real WORKING.md. The file
 * mirrors the store (written before and after each run); the store stays the truth, edits to the file are not read.
 */
export function workspaceOf(started: StartedRun): string {
  return started.team.workspace_path ? resolve(started.team.workspace_path, started.agent.id) : '';
}

export async function mirrorWorkingState(core: Core, agentId: string, folder: string): Promise<void> {
  if (!folder) return;
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'WORKING.md'), await core.runs.workingMarkdown(agentId));
}
