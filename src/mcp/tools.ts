import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { TOOL_NAMES } from '../core/action.js';
import type { ToolName } from '../core/action.js';
import { TOOL_SUMMARIES, TOOL_TITLES, actionsOf } from '../core/catalog.js';

type JsonSchema = Record<string, unknown> & {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

/**
 * Keywords an agent needs to call a tool right; bounds (lengths, counts) are left to the core's validation,
 * whose errors name them, because every byte of `tools/list` is context each agent pays for on every turn.
 */
const KEPT = new Set(['type', 'enum', 'items', 'minimum', 'maximum', 'default', 'description']);

/** zod's `int()` states the safe-integer range as bounds; they say nothing to a reader. */
export const isUnbounded = (value: unknown) => typeof value === 'number' && Math.abs(value) >= Number.MAX_SAFE_INTEGER;

const sentence = (...parts: (string | undefined)[]) => parts.filter(Boolean).join('. ') || undefined;

/** `{type:"notify", to, message?}`: an object's members, constants shown, optional ones marked. */
function shapeOf(schema: JsonSchema): string {
  const members = Object.entries(schema.properties ?? {}).map(([key, sub]) =>
    sub.const !== undefined ? `${key}:${JSON.stringify(sub.const)}` : `${key}${schema.required?.includes(key) ? '' : '?'}`,
  );
  return `{${members.join(', ')}}`;
}

function trim(schema: JsonSchema): JsonSchema {
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return trimUnion(schema, union);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!KEPT.has(key) || isUnbounded(value)) continue;
    out[key] = key === 'items' ? trim(value as JsonSchema) : value;
  }
  if (schema.type === 'object' && schema.properties) out.description = sentence(out.description, `Keys: ${Object.keys(schema.properties).join(', ')}`);
  return out;
}

/**
 * A union, as short as it stays exact: branches that trim to the same schema once (`a task id, or '' to clear` is
 * a string); a union of objects (a rule's action) as one object whose shapes are told in words.
 */
function trimUnion(schema: JsonSchema, union: JsonSchema[]): JsonSchema {
  const branches = union.map(trim).filter((branch, i, all) => all.findIndex((other) => isDeepStrictEqual(other, branch)) === i);
  const outer: JsonSchema = {};
  if (schema.default !== undefined) outer.default = schema.default;
  if (branches.length === 1) return { ...branches[0], ...outer, ...(schema.description ? { description: schema.description } : {}) };
  if (union.every((branch) => branch.type === 'object')) {
    return { type: 'object', ...outer, description: sentence(schema.description, `One of ${union.map(shapeOf).join(' | ')}`) };
  }
  return { ...outer, ...(schema.description ? { description: schema.description } : {}), anyOf: branches };
}

/** What one action's schema of a parameter says beyond the part all its actions share: `a|b|c, default "a"`. */
function differenceOf(schema: JsonSchema, shared: JsonSchema): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (key in shared || key === 'description') continue;
    if (key === 'enum') parts.unshift((value as unknown[]).join('|'));
    else if (key === 'default') parts.push(`default ${JSON.stringify(value)}`);
    else parts.push(`${key} ${JSON.stringify(value)}`);
  }
  return parts.join(', ');
}

/**
 * One parameter of a dispatcher tool, from its schema in each action that takes it. Identical schemas are one. Where
 * actions differ (their enums, their defaults), the property keeps only what they share and its description says,
 * per action, what differs — never one action's enum or default presented as every action's.
 */
function mergeParameter(variants: { action: string; schema: JsonSchema }[]): JsonSchema {
  const first = variants[0]!.schema;
  if (variants.every(({ schema }) => isDeepStrictEqual(schema, first))) return first;
  const shared: JsonSchema = {};
  for (const [key, value] of Object.entries(first)) {
    if (variants.every(({ schema }) => isDeepStrictEqual(schema[key], value))) shared[key] = value;
  }
  const byDifference = new Map<string, string[]>();
  for (const { action, schema } of variants) {
    const difference = differenceOf(schema, shared);
    if (difference) byDifference.set(difference, [...(byDifference.get(difference) ?? []), action]);
  }
  const perAction = [...byDifference].map(([difference, actions]) => `${actions.join('/')}: ${difference}`).join('; ');
  return { ...shared, description: sentence(shared.description, perAction) };
}

/** MCP's tool annotations, as far as they hold for every action of a tool. */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface ToolDefinition {
  name: ToolName;
  title: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, JsonSchema>; required: string[] };
  annotations: ToolAnnotations;
}

/**
 * A dispatcher tool's definition, derived from its actions' zod schemas: `action` plus every action's parameters,
 * and a description listing each action with its required parameters (marked *).
 *
 * Annotations hold for all of a tool's actions or are not claimed: a tool with a write action is not read-only,
 * and is marked destructive and not idempotent, because each of the five has a delete and a create among its
 * writes. None reaches outside the team's own database (not open-world).
 */
export function toolDefinition(tool: ToolName): ToolDefinition {
  const actions = actionsOf(tool);
  const variants = new Map<string, { action: string; schema: JsonSchema }[]>();
  const lines: string[] = [];
  for (const def of actions) {
    const schema = z.toJSONSchema(def.input, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    for (const [param, sub] of Object.entries(schema.properties ?? {})) {
      variants.set(param, [...(variants.get(param) ?? []), { action: def.action, schema: trim(sub) }]);
    }
    const required = (schema.required ?? []).map((p) => `${p}*`);
    lines.push(`${def.action}${required.length ? `(${required.join(',')})` : ''}: ${def.summary}`);
  }
  const writes = actions.some((def) => def.write);
  return {
    name: tool,
    title: TOOL_TITLES[tool],
    description: `${TOOL_SUMMARIES[tool]} Actions — ${lines.join('; ')}.`,
    inputSchema: {
      type: 'object',
      properties: {
        action: { type: 'string', enum: actions.map((a) => a.action) },
        ...Object.fromEntries([...variants].map(([param, list]) => [param, mergeParameter(list)])),
      },
      required: ['action'],
    },
    annotations: { readOnlyHint: !writes, destructiveHint: writes, idempotentHint: !writes, openWorldHint: false },
  };
}

let definitions: ToolDefinition[] | undefined;

/** The five tools' definitions, derived once per process. */
export const toolDefinitions = (): ToolDefinition[] => (definitions ??= TOOL_NAMES.map(toolDefinition));
