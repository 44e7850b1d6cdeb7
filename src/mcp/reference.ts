import { z } from 'zod';
import { TOOL_NAMES } from '../core/action.js';
import { TOOL_SUMMARIES, actionsOf } from '../core/catalog.js';
import { isUnbounded } from './tools.js';

type Schema = { type?: string; enum?: unknown[]; const?: unknown; items?: Schema; default?: unknown; minimum?: number; maximum?: number; maxLength?: number; maxItems?: number; anyOf?: Schema[]; oneOf?: Schema[]; properties?: Record<string, Schema> };

function describeType(s: Schema): string {
  if (s.enum) return s.enum.map((v) => `\`${v}\``).join(' \\| ');
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.oneOf) return s.oneOf.map((branch) => `\`${branch.properties?.type?.const ?? 'object'}\` object`).join(' or ');
  if (s.anyOf) return s.anyOf.map(describeType).join(' or ');
  if (s.type === 'array') return `${describeType(s.items ?? {})}[]${s.maxItems ? ` (≤ ${s.maxItems})` : ''}`;
  const range = s.minimum !== undefined && s.maximum !== undefined && !isUnbounded(s.maximum) ? ` ${s.minimum}–${s.maximum}` : '';
  const length = s.maxLength ? ` (≤ ${s.maxLength} chars)` : '';
  return `${s.type ?? 'any'}${range}${length}`;
}

/** The tool reference (docs/tools.md), rendered from the actions' zod schemas so it cannot drift from the code. */
export function renderReference(): string {
  const out = [
    '# Tool reference',
    '',
    'Generated from the code by `npm run docs`; a test fails when it is stale. `*` marks a required parameter.',
    '',
  ];
  for (const tool of TOOL_NAMES) {
    out.push(`## ${tool}`, '', TOOL_SUMMARIES[tool], '');
    for (const def of actionsOf(tool)) {
      const schema = z.toJSONSchema(def.input, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, Schema>; required?: string[] };
      out.push(`### ${tool}(action="${def.action}")`, '', `${def.summary[0]!.toUpperCase()}${def.summary.slice(1)}.`, '');
      const params = Object.entries(schema.properties ?? {});
      if (params.length === 0) {
        out.push('No parameters.', '');
        continue;
      }
      out.push('| parameter | type | default |', '|---|---|---|');
      for (const [name, sub] of params) {
        const required = schema.required?.includes(name) ? '*' : '';
        out.push(`| \`${name}\`${required} | ${describeType(sub)} | ${sub.default === undefined ? '' : `\`${JSON.stringify(sub.default)}\``} |`);
      }
      out.push('');
    }
  }
  return out.join('\n');
}
