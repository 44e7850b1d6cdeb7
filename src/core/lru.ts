/** A map of at most `max` entries that, when full, forgets the one used least recently: a process's caches. */
export class Lru<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly max: number) {}

  /** The value kept for `key`, or the one `make` gives, kept from now on; either way the most recently used. */
  use(key: K, make: () => V): V {
    const known = this.entries.has(key);
    const value = known ? (this.entries.get(key) as V) : make();
    if (known) this.entries.delete(key);
    else if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
    return value;
  }
}
