/**
 * elex-wasm/postgres: {@link PostgresStore}, a byte store in a PostgreSQL table that many
 * processes and machines share (docs/postgres.md). Needs the optional peer dependency `pg` (8.x):
 * importing this entry without it throws ElexError `E_PEER` naming the package.
 */
import { loadPg } from './stores/postgres-store.js';

loadPg();

export { PostgresStore } from './stores/postgres-store.js';
export type { PostgresStoreOptions, PostgresTarget, PgPoolLike, PgClientLike } from './stores/postgres-store.js';
