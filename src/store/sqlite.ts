/**
 * Runs in one SQLite file (better-sqlite3): the default store. WAL with
 * synchronous=NORMAL, so an append is a few tens of microseconds and
 * survives the process being killed (the OS has the WAL); the file is
 * locked to this server (locking_mode=EXCLUSIVE), so a second server on the
 * same file stops at start with a clear error instead of marking the first
 * one's runs as orphans. Statements run synchronously: each is small.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";

import Database from "better-sqlite3";

import { TracefixError } from "../shared/errors.ts";
import type { RunEvent } from "../shared/schema/events.ts";
import type { SolveResult } from "../shared/schema/solve.ts";
import { listQuery, migrations, pageOf, RUN_COLUMNS, summaryOf, type RunRow } from "./sql.ts";
import type { Retention, RunFilter, RunMeta, RunPage, RunStore, RunSummary } from "./store.ts";

export class SqliteRunStore implements RunStore {
  readonly description: string;
  private readonly db: Database.Database;
  private readonly statements;

  private constructor(
    db: Database.Database,
    readonly file: string,
  ) {
    this.db = db;
    this.description = `sqlite ${file}`;
    this.statements = {
      create: db.prepare("INSERT INTO runs (run_id, status, strategy, policy, language, owner, created_at, updated_at) VALUES (?, 'running', ?, ?, ?, 'local', ?, ?)"),
      insertEvent: db.prepare("INSERT INTO events (run_id, id, body) VALUES (?, ?, ?)"),
      touch: db.prepare("UPDATE runs SET updated_at = ?, last_event_id = ? WHERE run_id = ?"),
      finish: db.prepare("UPDATE runs SET status = ?, updated_at = ?, result = ? WHERE run_id = ?"),
      summary: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = ?`),
      events: db.prepare("SELECT body FROM events WHERE run_id = ? AND id > ? ORDER BY id"),
      deleteEvents: db.prepare("DELETE FROM events WHERE run_id = ?"),
      deleteRun: db.prepare("DELETE FROM runs WHERE run_id = ? AND status <> 'running'"),
      running: db.prepare("SELECT run_id FROM runs WHERE status = 'running'"),
      older: db.prepare("SELECT run_id FROM runs WHERE status <> 'running' AND created_at < ?"),
      beyond: db.prepare("SELECT run_id FROM runs WHERE status <> 'running' ORDER BY created_at DESC, run_id DESC LIMIT -1 OFFSET ?"),
    };
  }

  /** Opens (or creates) `file`, applies the migrations it lacks, and takes the file for this server. */
  static open(file: string): SqliteRunStore {
    mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file, { timeout: 0 });
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("locking_mode = EXCLUSIVE");
      // Take the file now (a write under EXCLUSIVE keeps the lock until close), not at the first run.
      db.exec("BEGIN EXCLUSIVE; COMMIT");
      migrate(db);
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === "SQLITE_BUSY") {
        throw new TracefixError("store_unavailable", "store", `${file} is in use by another tracefix server: give this one its own TRACEFIX_STATE_DIR, or share runs through PostgreSQL (TRACEFIX_DATABASE_URL)`);
      }
      throw new TracefixError("store_unavailable", "store", `the run store ${file} could not be opened: ${(error as Error).message}`, { cause: error });
    }
    return new SqliteRunStore(db, file);
  }

  async create(runId: string, meta: RunMeta): Promise<void> {
    const now = new Date().toISOString();
    this.statements.create.run(runId, meta.strategy, meta.policy, meta.language, now, now);
  }

  private readonly appendEvent = (runId: string, event: RunEvent): void => {
    this.db.transaction(() => {
      this.statements.insertEvent.run(runId, event.id, JSON.stringify(event));
      this.statements.touch.run(event.time, event.id, runId);
    })();
  };

  async append(runId: string, event: RunEvent): Promise<void> {
    this.appendEvent(runId, event);
  }

  async finish(runId: string, result: SolveResult): Promise<void> {
    this.statements.finish.run(result.status, new Date().toISOString(), JSON.stringify(result), runId);
  }

  async summary(runId: string): Promise<RunSummary | undefined> {
    const row = this.statements.summary.get(runId) as RunRow | undefined;
    return row === undefined ? undefined : summaryOf(row);
  }

  async events(runId: string, afterId: number): Promise<readonly RunEvent[]> {
    return (this.statements.events.all(runId, afterId) as { body: string }[]).map((row) => JSON.parse(row.body) as RunEvent);
  }

  async list(filter: RunFilter = {}): Promise<RunPage> {
    const { sql, params, limit } = listQuery(filter, () => "?");
    return pageOf(this.db.prepare(sql).all(...params) as RunRow[], limit);
  }

  async delete(runId: string): Promise<boolean> {
    return this.db.transaction(() => {
      const deleted = this.statements.deleteRun.run(runId).changes > 0;
      if (deleted) this.statements.deleteEvents.run(runId);
      return deleted;
    })();
  }

  async prune(retention: Retention): Promise<number> {
    const doomed = new Set<string>();
    if (retention.maxAgeMs !== undefined) {
      for (const row of this.statements.older.all(new Date(Date.now() - retention.maxAgeMs).toISOString()) as { run_id: string }[]) doomed.add(row.run_id);
    }
    if (retention.maxRuns !== undefined) for (const row of this.statements.beyond.all(retention.maxRuns) as { run_id: string }[]) doomed.add(row.run_id);
    this.db.transaction(() => {
      for (const runId of doomed) {
        this.statements.deleteRun.run(runId);
        this.statements.deleteEvents.run(runId);
      }
    })();
    return doomed.size;
  }

  /** The file is this server's alone: every run still "running" in it was cut by a stop. */
  async orphans(): Promise<readonly string[]> {
    return (this.statements.running.all() as { run_id: string }[]).map((row) => row.run_id);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function migrate(db: Database.Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
  const applied = new Set((db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((row) => row.version));
  const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
  db.transaction(() => {
    for (const migration of migrations("sqlite")) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
    }
  })();
}
