/** Runs kept in memory, bounded: for tests, and for a server told to keep nothing on disk (TRACEFIX_STORE=memory). */
import type { RunEvent } from "../shared/schema/events.ts";
import type { SolveResult } from "../shared/schema/solve.ts";
import { decodeCursor, DEFAULT_PAGE, encodeCursor, type Retention, type RunFilter, type RunMeta, type RunPage, type RunStore, type RunSummary } from "./store.ts";

interface Entry {
  summary: RunSummary;
  readonly events: RunEvent[];
  bytes: number;
}

export interface MemoryRunStoreOptions {
  /** Finished runs kept (oldest dropped first). */
  readonly maxRuns?: number;
  /** Bytes of events kept over all finished runs. */
  readonly maxBytes?: number;
}

/** Whether a run is in a filter (cursor aside); the SQL stores say the same in sql.ts's listQuery. */
export function matches(summary: RunSummary, filter: RunFilter): boolean {
  return (
    (filter.status === undefined || summary.status === filter.status) &&
    (filter.strategy === undefined || summary.strategy === filter.strategy) &&
    (filter.policy === undefined || summary.policy === filter.policy) &&
    (filter.language === undefined || summary.language === filter.language) &&
    (filter.since === undefined || summary.created_at >= filter.since) &&
    (filter.until === undefined || summary.created_at < filter.until)
  );
}

/** Newest-first order: created_at, then run_id, both descending. */
function newerFirst(left: RunSummary, right: RunSummary): number {
  return left.created_at === right.created_at ? (left.run_id < right.run_id ? 1 : -1) : left.created_at < right.created_at ? 1 : -1;
}

export class MemoryRunStore implements RunStore {
  readonly description = "memory (runs are lost when the server stops)";
  private readonly runs = new Map<string, Entry>();
  private readonly maxRuns: number;
  private readonly maxBytes: number;
  private bytes = 0;

  constructor(options: MemoryRunStoreOptions = {}) {
    this.maxRuns = options.maxRuns ?? 1_000;
    this.maxBytes = options.maxBytes ?? 256 << 20;
  }

  async create(runId: string, meta: RunMeta): Promise<void> {
    const now = new Date().toISOString();
    this.runs.set(runId, {
      summary: { run_id: runId, status: "running", ...meta, created_at: now, updated_at: now, last_event_id: 0 },
      events: [],
      bytes: 0,
    });
    this.evict();
  }

  async append(runId: string, event: RunEvent): Promise<void> {
    const entry = this.runs.get(runId);
    if (entry === undefined) return;
    entry.events.push(event);
    const size = JSON.stringify(event).length;
    entry.bytes += size;
    this.bytes += size;
    entry.summary = { ...entry.summary, updated_at: event.time, last_event_id: event.id };
  }

  async finish(runId: string, result: SolveResult): Promise<void> {
    const entry = this.runs.get(runId);
    if (entry === undefined) return;
    entry.summary = { ...entry.summary, status: result.status, updated_at: new Date().toISOString(), result };
    this.evict();
  }

  async summary(runId: string): Promise<RunSummary | undefined> {
    return this.runs.get(runId)?.summary;
  }

  async events(runId: string, afterId: number): Promise<readonly RunEvent[]> {
    const events = this.runs.get(runId)?.events ?? [];
    // Ids are 1, 2, 3…: the events after `afterId` start at that index.
    return events.slice(Math.max(0, afterId));
  }

  async list(filter: RunFilter = {}): Promise<RunPage> {
    const limit = filter.limit ?? DEFAULT_PAGE;
    const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    const sorted = [...this.runs.values()].map((entry) => entry.summary).sort(newerFirst);
    const eligible = sorted.filter((summary) => matches(summary, filter) && (after === undefined || newerFirst(summary, { ...summary, ...after }) > 0));
    const runs = eligible.slice(0, limit);
    const last = runs.at(-1);
    return { runs, next_cursor: eligible.length > limit && last !== undefined ? encodeCursor(last) : null };
  }

  async delete(runId: string): Promise<boolean> {
    const entry = this.runs.get(runId);
    if (entry === undefined || entry.summary.status === "running") return false;
    this.runs.delete(runId);
    this.bytes -= entry.bytes;
    return true;
  }

  async prune(retention: Retention): Promise<number> {
    const cutoff = retention.maxAgeMs === undefined ? undefined : new Date(Date.now() - retention.maxAgeMs).toISOString();
    const finished = [...this.runs.values()].map((entry) => entry.summary).filter((summary) => summary.status !== "running").sort(newerFirst);
    const doomed = finished.filter((summary, rank) => (cutoff !== undefined && summary.created_at < cutoff) || (retention.maxRuns !== undefined && rank >= retention.maxRuns));
    for (const summary of doomed) await this.delete(summary.run_id);
    return doomed.length;
  }

  /** Nothing outlives this process here. */
  async orphans(): Promise<readonly string[]> {
    return [];
  }

  async close(): Promise<void> {
    this.runs.clear();
  }

  /** Drops the oldest finished runs while over either bound; running ones stay. */
  private evict(): void {
    let finished = [...this.runs.values()].filter((entry) => entry.summary.status !== "running").length;
    for (const [runId, entry] of this.runs) {
      if (finished <= this.maxRuns && this.bytes <= this.maxBytes) return;
      if (entry.summary.status === "running") continue;
      this.runs.delete(runId);
      this.bytes -= entry.bytes;
      finished -= 1;
    }
  }
}
