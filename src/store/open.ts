/** The store the configuration names, opened (migrated, locked where it must be). */
import type { StoreConfig } from "../shared/config.ts";
import type { Logger } from "../shared/logger.ts";
import { MemoryRunStore } from "./memory.ts";
import { PostgresRunStore } from "./postgres.ts";
import { SqliteRunStore } from "./sqlite.ts";
import type { RunStore } from "./store.ts";

export async function openRunStore(config: StoreConfig, logger: Logger): Promise<RunStore> {
  switch (config.kind) {
    case "memory":
      return new MemoryRunStore({ ...(config.retention.maxRuns === undefined ? {} : { maxRuns: config.retention.maxRuns }) });
    case "sqlite":
      return SqliteRunStore.open(config.file);
    case "postgres":
      return PostgresRunStore.open({ url: config.url, serverId: config.serverId, logger });
  }
}
