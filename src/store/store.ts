/**
 * The run store seam: a run is an append-only log of its events plus a
 * summary. Three stores: in memory (tests, and a server asked to keep
 * nothing), SQLite embedded (the default: one file, runs survive a
 * restart), PostgreSQL (several servers share runs and follow each
 * other's live runs). The interface is asynchronous for the last.
 */
import type { RunEvent } from "../shared/schema/events.ts";
import type { SolveResult } from "../shared/schema/solve.ts";

export type RunStatus = "running" | SolveResult["status"];

/** What a run is, fixed when it starts: what GET /v1/runs filters on. */
export interface RunMeta {
  readonly strategy: string;
  readonly policy: string;
  readonly language: string;
}

export interface RunSummary extends RunMeta {
  readonly run_id: string;
  readonly status: RunStatus;
  readonly created_at: string;
  readonly updated_at: string;
  readonly last_event_id: number;
  readonly result?: SolveResult | undefined;
}

export interface RunFilter {
  readonly status?: RunStatus | undefined;
  readonly strategy?: string | undefined;
  readonly policy?: string | undefined;
  readonly language?: string | undefined;
  /** ISO 8601: runs created at or after. */
  readonly since?: string | undefined;
  /** ISO 8601: runs created before. */
  readonly until?: string | undefined;
  /** Where the previous page ended (its `next_cursor`). */
  readonly cursor?: string | undefined;
  readonly limit?: number | undefined;
}

/** Newest first; `next_cursor` continues after the last one, null at the end. */
export interface RunPage {
  readonly runs: readonly RunSummary[];
  readonly next_cursor: string | null;
}

export interface Retention {
  /** Finished runs older than this are deleted. */
  readonly maxAgeMs?: number | undefined;
  /** Finished runs beyond the newest this many are deleted. */
  readonly maxRuns?: number | undefined;
}

export interface RunStore {
  /** What it is and where, for the start-up log and /healthz. */
  readonly description: string;
  create(runId: string, meta: RunMeta): Promise<void>;
  /** Durable when it resolves: the server streams an event only after this. */
  append(runId: string, event: RunEvent): Promise<void>;
  finish(runId: string, result: SolveResult): Promise<void>;
  summary(runId: string): Promise<RunSummary | undefined>;
  /** Events with id > `afterId`, in order. */
  events(runId: string, afterId: number): Promise<readonly RunEvent[]>;
  list(filter?: RunFilter): Promise<RunPage>;
  /** Deletes a finished run and its events; false when there is none. */
  delete(runId: string): Promise<boolean>;
  /** Deletes finished runs past the retention; how many went. */
  prune(retention: Retention): Promise<number>;
  /** Runs "running" whose server is gone (this one before a restart): their ids, to be ended as failed. */
  orphans(): Promise<readonly string[]>;
  /**
   * Calls `listener` whenever an event is appended to run `runId` by any
   * server sharing this store; resolves to a function that stops it. Only
   * stores several servers share have it: others have only local runs.
   */
  watch?(runId: string, listener: () => void): Promise<() => void>;
  close(): Promise<void>;
}

/** The position after a run in the newest-first order: created_at, then run_id, both descending. */
export function encodeCursor(summary: Pick<RunSummary, "created_at" | "run_id">): string {
  return Buffer.from(JSON.stringify([summary.created_at, summary.run_id])).toString("base64url");
}

export function decodeCursor(cursor: string): { created_at: string; run_id: string } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string") return { created_at: value[0], run_id: value[1] };
  } catch {
    // not one of ours
  }
  return undefined;
}

export const DEFAULT_PAGE = 100;
