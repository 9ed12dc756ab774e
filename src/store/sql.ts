/** What the two SQL stores share: the migrations in the repository, the listing query, rows as summaries. */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { decodeCursor, DEFAULT_PAGE, encodeCursor, type RunFilter, type RunPage, type RunSummary } from "./store.ts";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** `migrations/<dialect>/NNN_name.sql`, in order. */
export function migrations(dialect: "sqlite" | "postgres"): Migration[] {
  const directory = fileURLToPath(new URL(`./migrations/${dialect}/`, import.meta.url));
  return readdirSync(directory)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: Number.parseInt(file, 10), name: file, sql: readFileSync(`${directory}${file}`, "utf8") }));
}

export interface RunRow {
  run_id: string;
  status: string;
  strategy: string;
  policy: string;
  language: string;
  created_at: string;
  updated_at: string;
  last_event_id: number;
  result: string | null;
}

export function summaryOf(row: RunRow): RunSummary {
  return {
    run_id: row.run_id,
    status: row.status as RunSummary["status"],
    strategy: row.strategy,
    policy: row.policy,
    language: row.language,
    created_at: row.created_at,
    updated_at: row.updated_at,
    last_event_id: Number(row.last_event_id),
    ...(row.result === null ? {} : { result: JSON.parse(row.result) as RunSummary["result"] }),
  };
}

const RUN_COLUMNS = "run_id, status, strategy, policy, language, created_at, updated_at, last_event_id, result";

/**
 * SELECT for one page of GET /v1/runs: the filter's conditions, the keyset
 * cursor (created_at, run_id), newest first, one row more than the page to
 * know whether another follows. `placeholder(n)` is the dialect's n-th
 * parameter (`?` or `$n`).
 */
export function listQuery(filter: RunFilter, placeholder: (index: number) => string): { sql: string; params: unknown[]; limit: number } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const bind = (value: unknown): string => {
    params.push(value);
    return placeholder(params.length);
  };
  for (const column of ["status", "strategy", "policy", "language"] as const) {
    const value = filter[column];
    if (value !== undefined) conditions.push(`${column} = ${bind(value)}`);
  }
  if (filter.since !== undefined) conditions.push(`created_at >= ${bind(filter.since)}`);
  if (filter.until !== undefined) conditions.push(`created_at < ${bind(filter.until)}`);
  const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
  if (after !== undefined) conditions.push(`(created_at < ${bind(after.created_at)} OR (created_at = ${bind(after.created_at)} AND run_id < ${bind(after.run_id)}))`);
  const limit = filter.limit ?? DEFAULT_PAGE;
  const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
  return { sql: `SELECT ${RUN_COLUMNS} FROM runs ${where} ORDER BY created_at DESC, run_id DESC LIMIT ${bind(limit + 1)}`, params, limit };
}

/** The page from the rows of `listQuery` (one more than the page when another follows). */
export function pageOf(rows: readonly RunRow[], limit: number): RunPage {
  const runs = rows.slice(0, limit).map(summaryOf);
  const last = runs.at(-1);
  return { runs, next_cursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null };
}

export { RUN_COLUMNS };
