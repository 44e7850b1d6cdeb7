import { z } from 'zod';
import { agentRef } from './fields.js';
import { defined } from './patch.js';

/**
 * Where a rule sends a notification — the seed's five destinations. `inbox`, `activity` and `owner` stay in the
 * table's reach; `webhook` and `channel` leave it over HTTP (src/outbox). A URL, token or secret is given either
 * as it is or by the name of an environment variable that holds it (`url_env`, `token_env`, `secret_env`), read by
 * the process that sends: a rule written that way keeps no secret in the database, and none ever reaches the event
 * log, whose entries name rules, not destinations.
 */

export const CHANNEL_SERVICES = ['slack', 'discord', 'telegram', 'json'] as const;
export type ChannelService = (typeof CHANNEL_SERVICES)[number];

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable (letters, digits, _)').max(100);
const httpUrl = z
  .string()
  .max(2_000)
  .refine((value) => {
    try {
      return ['http:', 'https:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');
const secret = z.string().min(1).max(500);
const channelName = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a channel name: letters, digits, _ . -');

/** How a channel is reached: its service and where (also the shape of `notifications.channels.<name>`). */
export const channelFields = {
  service: z.enum(CHANNEL_SERVICES).optional(),
  url: httpUrl.optional(),
  url_env: envName.optional(),
  token: secret.optional(),
  token_env: envName.optional(),
  /** Telegram's API (or a gateway standing in for it); default https://api.telegram.org. */
  api_base: httpUrl.optional(),
  chat_id: z.union([z.string().min(1).max(200), z.number().int()]).optional(),
};

const webhookFields = {
  url: httpUrl.optional(),
  url_env: envName.optional(),
  secret: secret.optional(),
  secret_env: envName.optional(),
  timeout_seconds: z.number().min(0.1).max(120).optional(),
};

const needsUrl = <T extends { url?: string; url_env?: string }>(value: T, issues: z.core.$RefinementCtx<T>) => {
  if (!value.url && !value.url_env) issues.addIssue({ code: 'custom', path: ['url'], message: 'is required: give url, or url_env naming the environment variable that holds it' });
};

export const webhookSchema = z.strictObject({ type: z.literal('webhook'), ...webhookFields }).superRefine(needsUrl);

export const destinationSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('inbox'), agent_id: agentRef.optional() }),
  z.strictObject({ type: z.literal('activity') }),
  z.strictObject({ type: z.literal('owner') }),
  webhookSchema,
  z.strictObject({ type: z.literal('channel'), channel: channelName, ...channelFields }),
]);
export type Destination = z.infer<typeof destinationSchema>;

/** The owner's line (`notifications.owner_destination`): a webhook, or a channel. */
export const ownerLineSchema = z.discriminatedUnion('type', [webhookSchema, z.strictObject({ type: z.literal('channel'), channel: channelName, ...channelFields })]);
export type OwnerLine = z.infer<typeof ownerLineSchema>;

export const channelDefinitionSchema = z.strictObject(channelFields);
export type ChannelDefinition = z.infer<typeof channelDefinitionSchema>;

/** A destination as an outbox row keeps it: a channel merged with its definition, with its service settled. */
export type RoutedDestination =
  | { type: 'inbox'; agents: string[] }
  | ({ type: 'webhook' } & z.infer<z.ZodObject<typeof webhookFields>>)
  | ({ type: 'channel'; channel: string; service: ChannelService } & Omit<ChannelDefinition, 'service'>)
  | { type: 'owner'; via: RoutedDestination | null };

/** A channel's service: named in its definition, else its name when that is a service (`slack`), else generic JSON. */
export function channelService(name: string, definition: ChannelDefinition = {}): ChannelService {
  return definition.service ?? ((CHANNEL_SERVICES as readonly string[]).includes(name) ? (name as ChannelService) : 'json');
}

/** The environment variable a channel's URL (or Telegram token) is read from when nothing else names one. */
export const defaultChannelEnv = (name: string, what: 'URL' | 'TOKEN') => `TEAM_TABLE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${what}`;

/** A channel destination with what `notifications.channels.<name>` says filled in (the destination's own fields win). */
export function routeChannel(destination: { channel: string } & ChannelDefinition, channels: Record<string, ChannelDefinition>): RoutedDestination {
  const { channel, ...own } = destination;
  const definition = channels[channel] ?? {};
  const merged = { ...definition, ...defined(own) } as ChannelDefinition;
  const { service: _service, ...rest } = merged;
  return { type: 'channel', channel, service: channelService(channel, merged), ...rest };
}

const hidden = '[hidden]';
/** A URL without its path and query, where tokens of webhook URLs live (Slack's and Discord's are secrets). */
const hostOf = (url: string) => {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return hidden;
  }
};

/** A destination as answers show it: secrets hidden, URLs cut to their origin, environment variable names kept. */
export function redactDestination(destination: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(destination)) {
    if (value === undefined) continue;
    if (key === 'token' || key === 'secret') out[key] = hidden;
    else if ((key === 'url' || key === 'api_base') && typeof value === 'string') out[key] = hostOf(value);
    else if (key === 'via' && value && typeof value === 'object') out[key] = redactDestination(value);
    else out[key] = value;
  }
  return out;
}
