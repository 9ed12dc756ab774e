/**
 * The run store seam: a run is an append-only log of its events plus a
 * summary, so a store only appends and reads. Today: in memory, bounded;
 * next: SQLite embedded, PostgreSQL when several servers share runs. The
 * interface is asynchronous for those.
 */
import type { RunEvent } from "../shared/schema/events.ts";
import type { SolveResult } from "../shared/schema/solve.ts";

export interface RunSummary {
  readonly run_id: string;
  readonly status: "running" | SolveResult["status"];
  readonly strategy: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly last_event_id: number;
  readonly result?: SolveResult;
}

export interface RunStore {
  create(runId: string, strategy: string): Promise<void>;
  append(runId: string, event: RunEvent): Promise<void>;
  finish(runId: string, result: SolveResult): Promise<void>;
  summary(runId: string): Promise<RunSummary | undefined>;
  /** Events with id > `afterId`, in order. */
  events(runId: string, afterId: number): Promise<readonly RunEvent[]>;
  /** The kept runs, newest first. */
  list(filter?: RunFilter): Promise<readonly RunSummary[]>;
}

export interface RunFilter {
  readonly status?: RunSummary["status"] | undefined;
  readonly limit?: number | undefined;
}

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

export class MemoryRunStore implements RunStore {
  private readonly runs = new Map<string, Entry>();
  private readonly maxRuns: number;
  private readonly maxBytes: number;
  private bytes = 0;

  constructor(options: MemoryRunStoreOptions = {}) {
    this.maxRuns = options.maxRuns ?? 1_000;
    this.maxBytes = options.maxBytes ?? 256 << 20;
  }

  async create(runId: string, strategy: string): Promise<void> {
    const now = new Date().toISOString();
    this.runs.set(runId, {
      summary: { run_id: runId, status: "running", strategy, created_at: now, updated_at: now, last_event_id: 0 },
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

  async list(filter: RunFilter = {}): Promise<readonly RunSummary[]> {
    const limit = filter.limit ?? Infinity;
    const found: RunSummary[] = [];
    // A Map keeps insertion order: walking it backwards gives the newest first.
    for (const entry of [...this.runs.values()].reverse()) {
      if (found.length >= limit) break;
      if (filter.status === undefined || entry.summary.status === filter.status) found.push(entry.summary);
    }
    return found;
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
