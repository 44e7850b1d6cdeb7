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

/** `described`: a schema around this one already tells its shape in words; unions inside it need not again. */
function trim(schema: JsonSchema, described = false): JsonSchema {
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return trimUnion(schema, union, described || Boolean(schema.description));
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!KEPT.has(key) || isUnbounded(value)) continue;
    out[key] = key === 'items' ? trim(value as JsonSchema, described) : value;
  }
  if (schema.type === 'object' && schema.properties && !described) out.description = sentence(out.description, `Keys: ${Object.keys(schema.properties).join(', ')}`);
  return out;
}

/**
 * A union, as short as it stays exact: branches that trim to the same schema once (`a task id, or '' to clear` is
 * a string); a union of objects (a rule's action) as one object whose shapes are told in words, unless a description
 * around it already tells them.
 */
function trimUnion(schema: JsonSchema, union: JsonSchema[], described: boolean): JsonSchema {
  const branches = union.map((branch) => trim(branch, described)).filter((branch, i, all) => all.findIndex((other) => isDeepStrictEqual(other, branch)) === i);
  const outer: JsonSchema = {};
  if (schema.default !== undefined) outer.default = schema.default;
  if (schema.description) outer.description = schema.description;
  if (branches.length === 1) return { ...branches[0], ...outer };
  if (union.every((branch) => branch.type === 'object')) {
    return { type: 'object', ...outer, ...(described && !schema.description ? {} : { description: sentence(schema.description, described ? undefined : `One of ${union.map(shapeOf).join(' | ')}`) }) };
  }
  return { ...outer, anyOf: branches };
}

/** What one action's schema of a parameter says beyond the part all its actions share, but its default. */
function differenceOf(schema: JsonSchema, shared: JsonSchema): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (key in shared || key === 'description' || key === 'default') continue;
    if (key === 'enum') parts.unshift((value as unknown[]).join('|'));
    else parts.push(`${key} ${JSON.stringify(value)}`);
  }
  return parts.join(', ');
}

/** `create/list: a|b; update: c|d`: the actions that agree, grouped, with what they say. */
function perAction(variants: { action: string; schema: JsonSchema }[], say: (schema: JsonSchema) => string): string[] {
  const groups = new Map<string, string[]>();
  for (const { action, schema } of variants) {
    const said = say(schema);
    if (said) groups.set(said, [...(groups.get(said) ?? []), action]);
  }
  return [...groups].map(([said, actions]) => `${actions.join('/')}: ${said}`);
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
  const differences = perAction(variants, (schema) => differenceOf(schema, shared));
  const defaults = 'default' in shared ? [] : perAction(variants, (schema) => (schema.default === undefined ? '' : `default ${JSON.stringify(schema.default)}`));
  const perActionText = [...differences, ...defaults].join('; ');
  return { ...shared, description: sentence(shared.description, perActionText) };
}

/** MCP's tool annotations, as far as they hold for every action of a tool. */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
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
 * writes. (`openWorldHint` is left out: the runner's actions wake agents outside, the others do not.)
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
    annotations: { readOnlyHint: !writes, destructiveHint: writes, idempotentHint: !writes },
  };
}

let definitions: ToolDefinition[] | undefined;

/** The five tools' definitions, derived once per process. */
export const toolDefinitions = (): ToolDefinition[] => (definitions ??= TOOL_NAMES.map(toolDefinition));
