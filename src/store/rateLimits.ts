/** A budget of requests: `perMinute` sustained, `burst` at once after a quiet spell. */
export interface RateBudget {
  perMinute: number;
  burst: number;
}

/**
 * Token buckets kept in the database, so that every replica of one database spends the same budget per caller.
 * Only dialects that serve several replicas have one; a single server keeps its buckets in memory.
 */
export interface RateLimitStore {
  /** Takes one request from `key`'s budget: 0 when allowed, else how many seconds until the next one is. */
  take(key: string, budget: RateBudget): Promise<number>;
}
