/** The entries of `changes` that were given: the patch an `update` action applies. */
export function defined<T extends Record<string, unknown>>(changes: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as never;
}
