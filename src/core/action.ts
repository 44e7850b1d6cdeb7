import type { z } from 'zod';
import type { Ctx } from './context.js';
import { idempotencyKey } from './fields.js';

export const TOOL_NAMES = ['team_manage', 'team_agent', 'team_task', 'team_memory', 'team_comm'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/**
 * One use case, reachable as `tool(action=…)` from every adapter. `input` is the single source of its parameter
 * types, its JSON Schema and its validation errors; `write` use cases run in one transaction with their events.
 */
export interface ActionDef<S extends z.ZodObject = z.ZodObject> {
  tool: ToolName;
  action: string;
  /** One line for tool descriptions and help. */
  summary: string;
  input: S;
  write: boolean;
  /**
   * Whether the call counts as the agent's activity (`last_active_at`, what idle rules and summaries go by).
   * Reading one's own mail does not: an agent that only checks its mailbox has not been working.
   */
  activity?: false;
  /**
   * The answer is a task (or `{ task }`): when the rules this call set off changed that task, the core answers
   * with the task as it is after them.
   */
  answersWithTask?: true;
  /**
   * The action creates something: it takes an optional `idempotency_key`, and a retry with the same key gets the
   * first answer back and writes nothing (see idempotency.ts).
   */
  creates?: true;
  /**
   * The write takes the rows it changes with row locks (`FOR UPDATE SKIP LOCKED`), so on PostgreSQL it runs beside
   * other such writes (claims) and waits only for the rest; every other write waits for all writes, as on SQLite. It
   * reads only rows an index finds (`Store.write`'s `byKey`).
   */
  rowLocked?: true;
  /**
   * The action checks the role permission itself, against its target, instead of the core before it runs: the
   * agent named reviewer of a task may review it whatever its role.
   */
  checksPermission?: true;
  run(ctx: Ctx, input: z.infer<S>): Promise<Record<string, unknown>>;
}

/**
 * Declares an action (the type inference of `run`'s input is the point); an action that creates something gets the
 * `idempotency_key` parameter.
 */
export const defineAction = <S extends z.ZodObject>(def: ActionDef<S>): ActionDef<S> =>
  def.creates ? { ...def, input: def.input.extend({ idempotency_key: idempotencyKey }) as unknown as S } : def;
