import { z } from 'zod';
import { TOOL_NAMES } from '../core/action.js';
import type { ToolName } from '../core/action.js';
import { TOOL_SUMMARIES, actionsOf } from '../core/catalog.js';

type JsonSchema = Record<string, unknown> & { type?: string; enum?: unknown[]; properties?: Record<string, JsonSchema>; required?: string[] };

/**
 * Keywords an agent needs to call a tool right; bounds (lengths, counts) are left to the core's validation,
 * whose errors name them, because every byte of `tools/list` is context each agent pays for on every turn.
 */
const KEPT = new Set(['type', 'enum', 'items', 'minimum', 'maximum', 'default', 'description', 'anyOf']);

/** zod's `int()` states the safe-integer range as bounds; they say nothing to a reader. */
export const isUnbounded = (value: unknown) => typeof value === 'number' && Math.abs(value) >= Number.MAX_SAFE_INTEGER;

function trim(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!KEPT.has(key) || isUnbounded(value)) continue;
    if (key === 'items') out.items = trim(value as JsonSchema);
    else if (key === 'anyOf') out.anyOf = (value as JsonSchema[]).map(trim);
    else out[key] = value;
  }
  return out;
}

/** Two actions' schemas of one parameter: identical ones merge, enums unite, anything else keeps the first. */
function merge(a: JsonSchema, b: JsonSchema): JsonSchema {
  if (a.enum && b.enum) return { ...a, enum: [...new Set([...a.enum, ...b.enum])] };
  if (a.type === b.type && a.default !== b.default) {
    const { default: _drop, ...rest } = a;
    return rest;
  }
  return a;
}

export interface ToolDefinition {
  name: ToolName;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, JsonSchema>; required: string[] };
}

/**
 * A dispatcher tool's definition, derived from its actions' zod schemas: `action` plus the union of every action's
 * parameters, and a description listing each action with its required parameters (marked *).
 */
export function toolDefinition(tool: ToolName): ToolDefinition {
  const actions = actionsOf(tool);
  const properties: Record<string, JsonSchema> = {};
  const lines: string[] = [];
  for (const def of actions) {
    const schema = z.toJSONSchema(def.input, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    for (const [param, sub] of Object.entries(schema.properties ?? {})) {
      const trimmed = trim(sub);
      properties[param] = properties[param] ? merge(properties[param]!, trimmed) : trimmed;
    }
    const required = (schema.required ?? []).map((p) => `${p}*`);
    lines.push(`${def.action}${required.length ? `(${required.join(',')})` : ''}: ${def.summary}`);
  }
  return {
    name: tool,
    description: `${TOOL_SUMMARIES[tool]} Actions — ${lines.join('; ')}.`,
    inputSchema: {
      type: 'object',
      properties: { action: { type: 'string', enum: actions.map((a) => a.action) }, ...properties },
      required: ['action'],
    },
  };
}

let definitions: ToolDefinition[] | undefined;

/** The five tools' definitions, derived once per process. */
export const toolDefinitions = (): ToolDefinition[] => (definitions ??= TOOL_NAMES.map(toolDefinition));
