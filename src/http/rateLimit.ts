import type { Core } from '../core/core.js';

/**
 * How many requests one caller may make. The server asks before each request. One server keeps the budgets in its
 * memory; replicas of one PostgreSQL database share them in the database, so a caller spread over N replicas gets
 * one budget, not N.
 */
export interface RateLimiter {
  /** Takes one request from `key`'s budget: 0 when allowed, else how many seconds until the next one is. */
  take(key: string): Promise<number>;
}

export interface RateLimit {
  /** Sustained requests per minute. */
  perMinute: number;
  /** How many may come at once after a quiet spell. */
  burst: number;
}

/** Sustained per minute, and a tenth of it at once: an agent's bursts of calls pass, a runaway loop does not. */
export const rateLimitOf = (perMinute: number): RateLimit => ({ perMinute, burst: Math.max(1, Math.ceil(perMinute / 10)) });

export const DEFAULT_RATE_LIMIT = rateLimitOf(1_200);

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets idle this long are full again; dropping them keeps the map as small as the set of active callers. */
const IDLE_MS = 10 * 60_000;

/**
 * A token bucket per key in this process's memory: `burst` requests at once, refilled at `perMinute`.
 *
 * @example
 *   const limiter = new MemoryRateLimiter({ perMinute: 600, burst: 60 });
 *   const wait = await limiter.take(tokenId); // 0, or seconds to wait
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  async take(key: string): Promise<number> {
    const now = this.now();
    this.sweep(now);
    const perMs = this.limit.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
  }

  private sweep(now: number) {
    if (now - this.lastSweep < IDLE_MS) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) if (now - bucket.at > IDLE_MS) this.buckets.delete(key);
  }
}

/** The budgets every server on the database shares, when the store keeps them (PostgreSQL), else this process's. */
export function rateLimiter(core: Core, limit: RateLimit): RateLimiter {
  const shared = core.sharedRateLimits;
  return shared ? { take: (key) => shared.take(key, limit) } : new MemoryRateLimiter(limit);
}

/** No limit (`--rate-limit 0`). */
export const unlimited: RateLimiter = { take: async () => 0 };
