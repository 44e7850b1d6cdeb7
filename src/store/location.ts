import { resolve } from 'node:path';

/** Whether `location` names a PostgreSQL database (a URL) rather than an SQLite file. */
export const isPostgresUrl = (location: string) => /^postgres(ql)?:\/\//i.test(location);

/** `location` as another process must be told it: a file path made absolute, a URL as it is. */
export const absoluteLocation = (location: string) => (isPostgresUrl(location) ? location : resolve(location));
