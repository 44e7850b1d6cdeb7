import { createRequire } from 'node:module';
import type { Liquid, Template } from 'liquidjs';
import { Lru } from './lru.js';

/**
 * A rule's message template, in Liquid (`{{ message }}`, `{% if priority == 1 %}…{% endif %}`, filters such as
 * `upcase` or `truncate`). Liquid was made for templates written by people who must not run code on the server:
 * no expressions beyond comparisons, only own properties, and bounded parsing and rendering. The seed's Go
 * template (`{{.Message}}`) becomes `{{ message }}`. Rejected: Handlebars and Mustache escape HTML by default and
 * expose helpers/lambdas; an embedded-JS engine (Eta, EJS) would run the template as code.
 */

/** The fields a template may use: the notification's, plus its team's name, its task's title and the rule's name. */
export const TEMPLATE_FIELDS = ['id', 'team_id', 'team_name', 'type', 'message', 'priority', 'task_id', 'task_title', 'agent_id', 'to_agent', 'created_at', 'origin', 'rule_name'] as const;
export type TemplateFields = Record<(typeof TEMPLATE_FIELDS)[number], string | number>;

/**
 * The text of a rule without a template: `[{{ team_name }}] {{ type }}: {{ message }} (task {{ task_id }})`, built
 * directly — rendering it through Liquid would cost the notifying call some 80 µs.
 */
export const defaultText = (fields: TemplateFields): string =>
  `[${fields.team_name}] ${fields.type}: ${fields.message}${fields.task_id !== '' ? ` (task ${fields.task_id})` : ''}`;

/** Longest text a template renders to; what is longer is cut with a marker (Telegram takes 4096). */
export const MAX_TEXT = 4_000;

let liquid: Liquid | undefined;

/** The engine, loaded on first use: a server that never routes a notification does not pay for loading it. */
function engine(): Liquid {
  if (!liquid) {
    const { Liquid: Engine } = createRequire(import.meta.url)('liquidjs') as typeof import('liquidjs');
    liquid = new Engine({ strictVariables: true, strictFilters: true, ownPropertyOnly: true, parseLimit: 20_000, renderLimit: 200, memoryLimit: 1_000_000 });
  }
  return liquid;
}

const parsed = new Lru<string, Template[]>(256);

const parse = (template: string): Template[] => parsed.use(template, () => engine().parse(template));

/** What is wrong with a template — it does not parse, or uses a field a notification lacks — or undefined. */
export function templateProblem(template: string): string | undefined {
  let variables: string[];
  try {
    variables = engine().globalVariablesSync(parse(template));
  } catch (error) {
    return `is not a valid template: ${(error as Error).message}`;
  }
  const unknown = variables.filter((v) => !(TEMPLATE_FIELDS as readonly string[]).includes(v));
  if (unknown.length) return `refers to ${unknown.map((v) => `{{ ${v} }}`).join(', ')}, which a notification does not have; fields: ${TEMPLATE_FIELDS.join(', ')}`;
  return undefined;
}

/** The text of a notification through `template` (checked when its rule was saved), or the default text. */
export function renderTemplate(template: string, fields: TemplateFields): string {
  const text = template ? (engine().renderSync(parse(template), fields) as string) : defaultText(fields);
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}
