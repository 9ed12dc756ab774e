/**
 * Runs in PostgreSQL (`pg`), shared by several servers. Each event is one
 * statement that inserts it, moves the run's summary and NOTIFYs the
 * channel `tracefix_events` (delivered at commit): a server following a run
 * another server is driving reads the new rows when told, so a resumed
 * stream gets every event once, in order, without polling hard. Each
 * server heartbeats in `servers`; a run whose server has not been seen for
 * a while (or that this server left behind before a restart) is an orphan.
 */
import pg from "pg";

import { TracefixError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { RunEvent } from "../shared/schema/events.ts";
import type { SolveResult } from "../shared/schema/solve.ts";
import { listQuery, migrations, pageOf, RUN_COLUMNS, summaryOf, type RunRow } from "./sql.ts";
import type { Retention, RunFilter, RunMeta, RunPage, RunStore, RunSummary } from "./store.ts";

const CHANNEL = "tracefix_events";
/** How often this server says it is alive, and how long silence makes its runs orphans. */
const HEARTBEAT_MS = 5_000;
const SERVER_LOST_MS = 30_000;
/** Serialises migrations between servers starting at once. */
const MIGRATION_LOCK = 7_431_001;

export interface PostgresRunStoreOptions {
  readonly url: string;
  /** Stable across restarts of the same server (its runs left running are its own orphans). */
  readonly serverId: string;
  readonly logger: Logger;
}

export class PostgresRunStore implements RunStore {
  readonly description: string;
  private readonly watchers = new Map<string, Set<() => void>>();
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly listener: pg.Client,
    private readonly serverId: string,
    url: string,
  ) {
    const where = new URL(url);
    this.description = `postgres ${where.hostname}:${where.port || "5432"}${where.pathname} (server ${serverId})`;
  }

  static async open(options: PostgresRunStoreOptions): Promise<PostgresRunStore> {
    const pool = new pg.Pool({ connectionString: options.url, max: 8 });
    pool.on("error", (error) => options.logger.warn("run store: an idle PostgreSQL connection failed", { error: error.message }));
    const listener = new pg.Client({ connectionString: options.url });
    try {
      await migrate(pool);
      await listener.connect();
      await listener.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      await pool.end().catch(() => undefined);
      await listener.end().catch(() => undefined);
      throw new TracefixError("store_unavailable", "store", `the PostgreSQL run store could not be opened: ${(error as Error).message}`, { cause: error });
    }
    const store = new PostgresRunStore(pool, listener, options.serverId, options.url);
    listener.on("notification", (message) => store.notified(message.payload ?? ""));
    listener.on("error", (error) => options.logger.error("run store: the PostgreSQL LISTEN connection failed; followers of other servers' runs fall back to reading every 2 s", { error: error.message }));
    await store.beat();
    store.heartbeat = setInterval(() => void store.beat().catch(() => undefined), HEARTBEAT_MS);
    store.heartbeat.unref();
    return store;
  }

  private async beat(): Promise<void> {
    await this.pool.query("INSERT INTO servers (server_id, seen_at) VALUES ($1, now()) ON CONFLICT (server_id) DO UPDATE SET seen_at = now()", [this.serverId]);
  }

  private notified(payload: string): void {
    const runId = payload.slice(0, payload.lastIndexOf(":"));
    for (const listener of this.watchers.get(runId) ?? []) listener();
  }

  async create(runId: string, meta: RunMeta): Promise<void> {
    const now = new Date().toISOString();
    await this.pool.query("INSERT INTO runs (run_id, status, strategy, policy, language, owner, created_at, updated_at) VALUES ($1, 'running', $2, $3, $4, $5, $6, $6)", [
      runId,
      meta.strategy,
      meta.policy,
      meta.language,
      this.serverId,
      now,
    ]);
  }

  async append(runId: string, event: RunEvent): Promise<void> {
    // One statement, so one transaction: the row, the summary and the notification commit together.
    await this.pool.query(
      `WITH inserted AS (INSERT INTO events (run_id, id, body) VALUES ($1, $2, $3)),
            touched AS (UPDATE runs SET updated_at = $4, last_event_id = $2 WHERE run_id = $1)
       SELECT pg_notify('${CHANNEL}', $1 || ':' || $2::text)`,
      [runId, event.id, JSON.stringify(event), event.time],
    );
  }

  async finish(runId: string, result: SolveResult): Promise<void> {
    await this.pool.query("UPDATE runs SET status = $1, updated_at = $2, result = $3 WHERE run_id = $4", [result.status, new Date().toISOString(), JSON.stringify(result), runId]);
  }

  async summary(runId: string): Promise<RunSummary | undefined> {
    const { rows } = await this.pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1`, [runId]);
    return rows[0] === undefined ? undefined : summaryOf(rows[0]);
  }

  async events(runId: string, afterId: number): Promise<readonly RunEvent[]> {
    const { rows } = await this.pool.query<{ body: string }>("SELECT body FROM events WHERE run_id = $1 AND id > $2 ORDER BY id", [runId, afterId]);
    return rows.map((row) => JSON.parse(row.body) as RunEvent);
  }

  async list(filter: RunFilter = {}): Promise<RunPage> {
    const { sql, params, limit } = listQuery(filter, (index) => `$${index}`);
    const { rows } = await this.pool.query<RunRow>(sql, params);
    return pageOf(rows, limit);
  }

  async delete(runId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ run_id: string }>(
      "WITH gone AS (DELETE FROM runs WHERE run_id = $1 AND status <> 'running' RETURNING run_id), events_gone AS (DELETE FROM events WHERE run_id IN (SELECT run_id FROM gone)) SELECT run_id FROM gone",
      [runId],
    );
    return rows.length > 0;
  }

  async prune(retention: Retention): Promise<number> {
    const cutoff = retention.maxAgeMs === undefined ? null : new Date(Date.now() - retention.maxAgeMs).toISOString();
    const { rows } = await this.pool.query<{ run_id: string }>(
      `WITH doomed AS (
         SELECT run_id FROM runs WHERE status <> 'running' AND created_at < $1
         UNION SELECT run_id FROM (SELECT run_id FROM runs WHERE status <> 'running' ORDER BY created_at DESC, run_id DESC OFFSET $2) beyond
       ),
       gone AS (DELETE FROM runs WHERE run_id IN (SELECT run_id FROM doomed) RETURNING run_id),
       events_gone AS (DELETE FROM events WHERE run_id IN (SELECT run_id FROM gone))
       SELECT run_id FROM gone`,
      [cutoff ?? "", retention.maxRuns ?? 2_147_483_647],
    );
    return rows.length;
  }

  /** Runs this server left running before a restart, and runs of servers not seen for SERVER_LOST_MS. */
  async orphans(): Promise<readonly string[]> {
    const { rows } = await this.pool.query<{ run_id: string }>(
      `SELECT run_id FROM runs WHERE status = 'running' AND (owner = $1 OR owner NOT IN (SELECT server_id FROM servers WHERE seen_at > now() - $2::interval))`,
      [this.serverId, `${SERVER_LOST_MS} milliseconds`],
    );
    return rows.map((row) => row.run_id);
  }

  async watch(runId: string, listener: () => void): Promise<() => void> {
    const listeners = this.watchers.get(runId) ?? new Set();
    listeners.add(listener);
    this.watchers.set(runId, listeners);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.watchers.delete(runId);
    };
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.listener.end().catch(() => undefined);
    await this.pool.end();
  }
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
    const applied = new Set(rows.map((row) => row.version));
    for (const migration of migrations("postgres")) {
      if (applied.has(migration.version)) continue;
      await client.query("BEGIN");
      try {
        await client.query(migration.sql);
        await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}
