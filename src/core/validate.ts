import { z } from 'zod';
import { TeamTableError } from './errors.js';

/** Validates `input` against `schema`; the first problem becomes one sentence naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, context: string): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  // An unknown key first: it is most often the misspelling of the very parameter reported missing.
  const issue = result.error.issues.find((i) => i.code === 'unrecognized_keys' && i.path.length === 0) ?? result.error.issues[0]!;
  const field = issue.path.length ? issue.path.join('.') : describeRoot(issue);
  throw new TeamTableError('VALIDATION', `${context}: ${field} ${explain(issue, input)}`, {
    field,
    issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}

function describeRoot(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `'${k}'`).join(', ');
  return 'input';
}

function explain(issue: z.core.$ZodIssue, input: unknown): string {
  const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], input);
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined ? `is required (${issue.expected})` : `must be ${article(issue.expected)}`;
    case 'invalid_value': {
      const options = issue.values.map((v) => JSON.stringify(v)).join(', ');
      return value === undefined ? `is required: one of ${options}` : `must be one of ${options} (got ${JSON.stringify(value)})`;
    }
    case 'unrecognized_keys':
      if (issue.path.length) return `has no field ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
      return `${issue.keys.length > 1 ? 'are not parameters' : 'is not a parameter'} of this action`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options) return `must be one of ${options.map((v) => JSON.stringify(v)).join(', ')}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`;
      return issue.message;
    }
    case 'too_big':
      return issue.origin === 'string'
        ? `must be at most ${issue.maximum} characters`
        : issue.origin === 'array'
          ? `must have at most ${issue.maximum} items`
          : `must be at most ${issue.maximum}`;
    case 'too_small':
      return issue.origin === 'string'
        ? Number(issue.minimum) <= 1
          ? 'must not be empty'
          : `must be at least ${issue.minimum} characters`
        : issue.origin === 'array'
          ? `must have at least ${issue.minimum} items`
          : `must be at least ${issue.minimum}`;
    default:
      return issue.message.replace(/^Invalid input:?\s*/i, 'is invalid: ');
  }
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/** A lone UTF-16 surrogate: JavaScript strings may hold one, UTF-8 (the database, the wire) cannot. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Refuses text that a database cannot store as sent, naming the field, wherever it is in the arguments: a lone
 * surrogate, which would be stored as invalid UTF-8, and a NUL (U+0000), which PostgreSQL's text cannot hold (SQLite's
 * can: refused on both, so that a team behaves alike on either).
 */
export function assertWellFormedText(value: unknown, context: string, path: string[] = []): void {
  if (typeof value === 'string') {
    const flaw = LONE_SURROGATE.test(value) ? 'a lone UTF-16 surrogate (half of a character)' : value.includes('\0') ? 'a NUL character (U+0000)' : undefined;
    if (flaw) {
      const field = path.join('.') || 'input';
      throw new TeamTableError('VALIDATION', `${context}: ${field} is not valid text: it holds ${flaw}`, { field });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => assertWellFormedText(item, context, [...path, String(index)]));
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      assertWellFormedText(key, context, [...path, '(a key)']);
      assertWellFormedText(item, context, [...path, key]);
    }
  }
}
