/** The run store: its seam, and the memory, SQLite and PostgreSQL stores behind it. */
export * from "./store.ts";
export { MemoryRunStore, type MemoryRunStoreOptions } from "./memory.ts";
export { SqliteRunStore } from "./sqlite.ts";
export { PostgresRunStore, type PostgresRunStoreOptions } from "./postgres.ts";
export { openRunStore } from "./open.ts";
