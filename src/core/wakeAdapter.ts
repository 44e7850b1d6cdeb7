import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { LIMITS } from './limits.js';

/**
 * How the runner wakes an agent, set with team_agent create/update as one parameter `wake_adapter`: an object whose
 * `type` picks the adapter and whose other fields are that adapter's. Stored with the agent as JSON; `team_agent get`
 * shows it with its secrets masked.
 */

export const WAKE_ADAPTER_TYPES = ['command', 'openai', 'webhook', 'sse'] as const;
export type WakeAdapterType = (typeof WAKE_ADAPTER_TYPES)[number];

const seconds = (fallback: number) => z.number().int().min(1).max(24 * 3600).default(fallback);
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (letters, digits, _)');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).max(LIMITS.shortText);

const command = z.strictObject({
  type: z.literal('command'),
  /** The program and its arguments, run without a shell. */
  command: z.array(z.string().min(1).max(LIMITS.longText)).min(1).max(LIMITS.listItems),
  cwd: z.string().min(1).max(LIMITS.shortText).optional(),
  env: z
    .record(envName, z.string().max(LIMITS.shortText))
    .refine((env) => Object.keys(env).length <= LIMITS.listItems, `must have at most ${LIMITS.listItems} variables`)
    // Who the run acts as is the runner's to say, never the configuration's.
    .refine((env) => !Object.keys(env).some((name) => name.startsWith('TEAM_TABLE_')), 'must not set TEAM_TABLE_* variables: the runner sets them for the agent')
    .optional(),
  timeout_seconds: seconds(600),
});

const openai = z.strictObject({
  type: z.literal('openai'),
  /** An OpenAI-compatible chat-completions endpoint: https://api.openai.com/v1, http://127.0.0.1:11434/v1 (Ollama) … */
  base_url: httpUrl,
  /** Overrides the agent's model (and the team's default_model). */
  model: z.string().min(1).max(LIMITS.name).optional(),
  /** The environment variable of the runner's process holding the API key (the key itself is never stored). */
  api_key_env: envName.optional(),
  /** Model calls per run at most. */
  max_steps: z.number().int().min(1).max(50).default(10),
  /** Tokens (prompt + completion, as the endpoint reports them) per run at most. */
  max_tokens: z.number().int().min(1_000).max(2_000_000).default(60_000),
  /** Past runs kept in the agent's conversation; older ones are summarised in one line each. */
  history_turns: z.number().int().min(0).max(50).default(6),
  timeout_seconds: seconds(300),
});

const webhook = z.strictObject({
  type: z.literal('webhook'),
  url: httpUrl,
  /** The HMAC-SHA256 key of the signature; generated (and shown once) when omitted. */
  secret: z.string().min(16).max(LIMITS.name).optional(),
  timeout_seconds: seconds(30),
});

const sse = z.strictObject({ type: z.literal('sse') });

export const wakeAdapterSchema = z.discriminatedUnion('type', [command, openai, webhook, sse]);
export type WakeAdapter = z.infer<typeof wakeAdapterSchema>;
export type CommandAdapter = z.infer<typeof command>;
export type OpenAiAdapter = z.infer<typeof openai>;
export type WebhookAdapter = z.infer<typeof webhook>;

/** The parameter of team_agent create/update: an adapter, or null to remove it. */
export const wakeAdapterParam = wakeAdapterSchema
  .nullable()
  .optional()
  .describe('owner only; how the runner wakes the agent (docs/runner.md); null removes it');

export const parseWakeAdapter = (stored: string): WakeAdapter | null => (stored ? (JSON.parse(stored) as WakeAdapter) : null);

const MASK = '********';
/** Environment variables whose values are secrets by their name. */
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH/i;

/** The adapter as `get` shows it: a webhook's secret and secret-looking environment values masked. */
export function maskWakeAdapter(stored: string): Record<string, unknown> | null {
  const adapter = parseWakeAdapter(stored);
  if (!adapter) return null;
  if (adapter.type === 'webhook') return { ...adapter, secret: MASK };
  if (adapter.type === 'command' && adapter.env) {
    return { ...adapter, env: Object.fromEntries(Object.entries(adapter.env).map(([k, v]) => [k, SECRET_NAME.test(k) ? MASK : v])) };
  }
  return adapter;
}

/**
 * The adapter to store for `input` replacing `current`: a webhook without a secret keeps the one it had, or gets a
 * new one. Returns the JSON to store and, when a secret was generated, that secret (answered once, never again).
 */
export function adapterToStore(input: WakeAdapter | null, current: string): { stored: string; generatedSecret?: string } {
  if (!input) return { stored: '' };
  if (input.type !== 'webhook' || input.secret) return { stored: JSON.stringify(input) };
  const previous = parseWakeAdapter(current);
  if (previous?.type === 'webhook' && previous.secret) return { stored: JSON.stringify({ ...input, secret: previous.secret }) };
  const secret = randomBytes(32).toString('hex');
  return { stored: JSON.stringify({ ...input, secret }), generatedSecret: secret };
}
