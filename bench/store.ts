/**
 * npm run bench:store [-- --events N] [--runs N] [--shared-runs N]
 *
 * The run stores side by side, SQLite (a file in a temporary directory) and
 * PostgreSQL (a throwaway cluster, as the tests start one):
 *  1. appending events of a real run's size: events/s, p50 and p99 of one
 *     append (for SQLite that is also how long it holds the event loop);
 *  2. listing at N stored runs (100,000 by default): the first page, a page
 *     filtered by status and language, and the page after 500 rows by cursor;
 *  3. (PostgreSQL) two servers sharing runs: N runs spread over both, each
 *     client's stream cut halfway and resumed on the other server.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { silentLogger } from "../src/shared/logger.ts";
import type { RunEvent } from "../src/shared/schema/events.ts";
import { PostgresRunStore, SqliteRunStore, type RunStore } from "../src/store/index.ts";
import { startPostgres } from "../test/support/postgres.ts";
import { startPool } from "../test/support/sandbox.ts";
import { resumeAcross, startSharedServers } from "../test/support/shared-runs.ts";

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const eventCount = option("events", 20_000);
const runCount = option("runs", 100_000);
const sharedRuns = option("shared-runs", 200);

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** A candidate.executed event with its feedback: what most of a run's events look like (~1 KB). */
function eventOf(runId: string, id: number): RunEvent {
  return {
    id,
    run_id: runId,
    time: new Date().toISOString(),
    type: "candidate.executed",
    round: 2,
    chain: id % 8,
    candidate: `r2c${id % 8}`,
    status: "failed",
    passed: 1,
    total: 3,
    tests: [0, 1, 2].map((index) => ({ index, status: index === 0 ? "passed" : "wrong_answer" })),
    steps: 40,
    feedback: `2 of 3 tests failed.\n\nFailing test 2 of 3:\nTest: total([1, 2, 3])\nExpected: 6\nGot: 5\n${"[L3] i = 1 [/L3]\n".repeat(40)}`,
  } as RunEvent;
}

async function appends(store: RunStore): Promise<string> {
  const perRun = 50;
  const latencies: number[] = [];
  const started = performance.now();
  for (let run = 0; run < eventCount / perRun; run += 1) {
    const runId = `append_${run}`;
    await store.create(runId, { strategy: "sequential", policy: "repair", language: "python" });
    for (let id = 1; id <= perRun; id += 1) {
      const before = performance.now();
      await store.append(runId, eventOf(runId, id));
      latencies.push(performance.now() - before);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return `${Math.round(eventCount / seconds)} events/s, one append p50 ${quantile(latencies, 0.5).toFixed(3)} ms, p99 ${quantile(latencies, 0.99).toFixed(3)} ms`;
}

async function time(work: () => Promise<unknown>): Promise<number> {
  await work(); // warm
  const times: number[] = [];
  for (let repeat = 0; repeat < 9; repeat += 1) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return quantile(times, 0.5);
}

async function listings(store: RunStore): Promise<string> {
  let cursor: string | undefined;
  for (let page = 0; page < 5; page += 1) cursor = (await store.list({ limit: 100, cursor })).next_cursor ?? undefined;
  const first = await time(() => store.list({ limit: 100 }));
  const filtered = await time(() => store.list({ status: "unsolved", language: "javascript", limit: 100 }));
  const deep = await time(() => store.list({ limit: 100, cursor }));
  return `first page ${first.toFixed(2)} ms, filtered (status + language) ${filtered.toFixed(2)} ms, after 500 by cursor ${deep.toFixed(2)} ms (median of 9, 100 runs a page)`;
}

/** Runs written straight into the table (a bulk load, not the benchmark): created a second apart, mixed states and languages. */
async function fillSqlite(store: SqliteRunStore): Promise<void> {
  const db = (store as unknown as { db: import("better-sqlite3").Database }).db;
  const insert = db.prepare("INSERT INTO runs (run_id, status, strategy, policy, language, owner, created_at, updated_at, last_event_id) VALUES (?, ?, 'sequential', 'repair', ?, 'local', ?, ?, 20)");
  db.transaction(() => {
    for (let index = 0; index < runCount; index += 1) {
      const at = new Date(Date.UTC(2026, 0, 1) + index * 1000).toISOString();
      insert.run(`bulk_${String(index).padStart(7, "0")}`, ["solved", "unsolved", "failed"][index % 3], index % 2 === 0 ? "python" : "javascript", at, at);
    }
  })();
}

async function fillPostgres(url: string): Promise<void> {
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    `INSERT INTO runs (run_id, status, strategy, policy, language, owner, created_at, updated_at, last_event_id)
     SELECT 'bulk_' || lpad(i::text, 7, '0'), (ARRAY['solved','unsolved','failed'])[i % 3 + 1], 'sequential', 'repair',
            CASE WHEN i % 2 = 0 THEN 'python' ELSE 'javascript' END, 'bulk',
            to_char((timestamp '2026-01-01' + i * interval '1 second'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            to_char((timestamp '2026-01-01' + i * interval '1 second'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 20
     FROM generate_series(0, $1 - 1) AS i`,
    [runCount],
  );
  await client.query("ANALYZE runs");
  await client.end();
}

const postgres = await startPostgres();
try {
  const sqlite = SqliteRunStore.open(path.join(mkdtempSync(path.join(tmpdir(), "tracefix-bench-")), "runs.sqlite"));
  const appendUrl = await postgres.database("bench_append");
  const shared = await PostgresRunStore.open({ url: appendUrl, serverId: "bench", logger: silentLogger });
  process.stdout.write(`appending ${eventCount} events (~1 KB each, 50 per run):\n`);
  process.stdout.write(`  sqlite:     ${await appends(sqlite)}\n`);
  process.stdout.write(`  postgres:   ${await appends(shared)}\n`);
  await sqlite.close();
  await shared.close();

  const listSqlite = SqliteRunStore.open(path.join(mkdtempSync(path.join(tmpdir(), "tracefix-bench-")), "runs.sqlite"));
  await fillSqlite(listSqlite);
  const listUrl = await postgres.database("bench_list");
  const listPostgres = await PostgresRunStore.open({ url: listUrl, serverId: "bench", logger: silentLogger });
  await fillPostgres(listUrl);
  process.stdout.write(`listing at ${runCount} stored runs:\n`);
  process.stdout.write(`  sqlite:     ${await listings(listSqlite)}\n`);
  process.stdout.write(`  postgres:   ${await listings(listPostgres)}\n`);
  await listSqlite.close();
  await listPostgres.close();

  const pool = await startPool({ size: 2 });
  const servers = await startSharedServers(pool, await postgres.database("bench_shared"));
  const outcome = await resumeAcross(servers, sharedRuns, 16);
  process.stdout.write(
    `two servers on one PostgreSQL, ${outcome.runs} runs, every stream cut and resumed on the other server: ${outcome.events} events read, ` +
      `${outcome.lost} lost, ${outcome.duplicated} duplicated, ${outcome.outOfOrder} out of order, ${outcome.unterminated} unended; ` +
      `${outcome.resumedLive} resumed while still running; ${outcome.seconds.toFixed(1)} s\n`,
  );
  await Promise.all(servers.map((server) => server.close()));
  await pool.close();
} finally {
  postgres.stop();
}
