/** A map of at most `max` entries that, when full, forgets the one used least recently: a process's caches. */
export class Lru<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly max: number) {}

  /** The value kept for `key`, or the one `make` gives, kept from now on; either way the most recently used. */
  use(key: K, make: () => V): V {
    const value = this.entries.has(key) ? (this.entries.get(key) as V) : make();
    this.set(key, value);
    return value;
  }

  /** Keeps `value` for `key`, as the most recently used. */
  set(key: K, value: V): void {
    if (!this.entries.delete(key) && this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** The value kept for `key`, forgotten from now on. */
  take(key: K): V | undefined {
    const value = this.entries.get(key);
    this.entries.delete(key);
    return value;
  }
}
