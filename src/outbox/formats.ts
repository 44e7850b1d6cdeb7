import type { DueDelivery } from '../core/outbox.js';
import type { RoutedDestination } from '../core/notificationDestinations.js';
import { defaultChannelEnv } from '../core/notificationDestinations.js';
import { VERSION } from '../version.js';
import { DELIVERY_HEADER, signatureHeaders } from './signing.js';

/**
 * The HTTP request of each destination, in the format its receiver documents:
 * - webhook: our JSON body (docs/notifications.md), signed when it has a secret;
 * - Slack incoming webhook: `{"text": …}`;
 * - Discord webhook: `{"content": …}` (at most 2000 characters), mentions in the text not pinging anyone;
 * - Telegram bot: `POST <api_base>/bot<token>/sendMessage` with `{"chat_id", "text"}` (at most 4096 characters),
 *   silent for priorities 4 and 5;
 * - a generic JSON channel (any other name, e.g. a WhatsApp gateway): `{"channel", "chat_id", "text", …}`.
 * URLs, tokens and secrets come from the destination or the environment variable it names, read now.
 */

export interface OutgoingRequest {
  url: string;
  /** What errors may show of the URL: its origin (Telegram's token sits in its path). */
  where: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs?: number;
  /** Telegram answers 429 with `parameters.retry_after` in its body. */
  service?: string;
}

/** A destination that cannot be sent yet (an unset environment variable): retried, since a restart may fix it. */
export class NotConfigured extends Error {}

type Env = Record<string, string | undefined>;

function pick(what: string, value: string | undefined, envName: string | undefined, env: Env, fallbackEnv?: string): string {
  if (value) return value;
  if (envName) {
    const fromEnv = env[envName];
    if (fromEnv) return fromEnv;
    throw new NotConfigured(`${what}: environment variable ${envName} is not set`);
  }
  if (fallbackEnv && env[fallbackEnv]) return env[fallbackEnv]!;
  throw new NotConfigured(`${what} is not set${fallbackEnv ? ` (nor ${fallbackEnv})` : ''}`);
}

const origin = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
};

const json = (body: unknown, extra: Record<string, string> = {}) => ({
  headers: { 'content-type': 'application/json', 'user-agent': `team-table/${VERSION}`, ...extra },
  body: JSON.stringify(body),
});

const TELEGRAM_MAX = 4096;
const DISCORD_MAX = 2000;
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The webhook body: the delivery's id (a receiver's key against duplicates), the notification, the text, the rule. */
export const webhookBody = (delivery: DueDelivery) => ({ delivery_id: delivery.id, ...delivery.payload });

export function requestFor(delivery: DueDelivery, env: Env = process.env, now = new Date(), destination: RoutedDestination = delivery.destination): OutgoingRequest {
  const { payload } = delivery;
  switch (destination.type) {
    case 'webhook': {
      const url = pick('url', destination.url, destination.url_env, env);
      const body = JSON.stringify(webhookBody(delivery));
      const secret = destination.secret || destination.secret_env ? pick('secret', destination.secret, destination.secret_env, env) : undefined;
      const request = json({}, { [DELIVERY_HEADER]: delivery.id, ...(secret ? signatureHeaders(secret, body, now) : {}) });
      return { url, where: origin(url), headers: request.headers, body, ...(destination.timeout_seconds ? { timeoutMs: destination.timeout_seconds * 1000 } : {}) };
    }
    case 'channel': {
      const { channel, service } = destination;
      if (service === 'telegram') {
        const token = pick(`channel '${channel}' token`, destination.token, destination.token_env, env, defaultChannelEnv(channel, 'TOKEN'));
        const base = (destination.api_base ?? env.TEAM_TABLE_TELEGRAM_API ?? 'https://api.telegram.org').replace(/\/+$/, '');
        if (destination.chat_id === undefined) throw new NotConfigured(`channel '${channel}' (telegram) needs a chat_id`);
        const request = json({ chat_id: destination.chat_id, text: cut(payload.text, TELEGRAM_MAX), disable_notification: Number(payload.notification.priority) >= 4 });
        return { url: `${base}/bot${token}/sendMessage`, where: origin(base), ...request, service };
      }
      const url = pick(`channel '${channel}' url`, destination.url, destination.url_env, env, defaultChannelEnv(channel, 'URL'));
      const body =
        service === 'slack'
          ? { text: payload.text }
          : service === 'discord'
            ? { content: cut(payload.text, DISCORD_MAX), allowed_mentions: { parse: [] } }
            : { channel, ...(destination.chat_id !== undefined ? { chat_id: destination.chat_id } : {}), ...webhookBody(delivery) };
      return { url, where: origin(url), ...json(body), service };
    }
    case 'owner':
      if (!destination.via) throw new NotConfigured('no owner line: set notifications.owner_destination');
      return requestFor(delivery, env, now, destination.via);
    case 'inbox':
      throw new Error('an inbox delivery is done in the database, not sent');
  }
}
