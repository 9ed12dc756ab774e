/**
 * POST /v1/solve and the runs API. SSE framing happens only here: the
 * strategy yields typed events, the run manager numbers and keeps them,
 * this file writes them as `event:`/`id:`/`data:`.
 */
import type { Context, Hono } from "hono";
import { stream, streamSSE } from "hono/streaming";

import { dpoPairs, type CandidateScorer } from "../judge/index.ts";
import type { Executor } from "../sandbox/index.ts";
import { publicTests, type RunManager } from "../scaling/index.ts";
import { InvalidRequestError, TracefixError } from "../shared/errors.ts";
import { PreferencesQuery, RunListQuery, type PreferencePair, type RunList } from "../shared/schema/runs.ts";
import { decodeCursor, type RunFilter } from "../store/index.ts";
import { SolveRequest } from "../shared/schema/solve.ts";
import { readRequest } from "./body.ts";
import { clientOf } from "./client.ts";
import { notFound } from "./errors.ts";
import { requireRewardModel } from "./select.ts";
import { parseRequest } from "./validation.ts";

export const HEARTBEAT_MS = 15_000;

function wantsEvents(context: Context, streamField: boolean): boolean {
  return streamField || (context.req.header("accept") ?? "").includes("text/event-stream");
}

/** Writes the run's events after `afterId` as SSE until it ends or the client goes. */
function streamRun(context: Context, runs: RunManager, runId: string, afterId: number, heartbeatMs: number, onDisconnect: () => void): Response {
  context.header("X-Run-Id", runId);
  return streamSSE(context, async (stream) => {
    const signal = context.req.raw.signal;
    // hono keeps writing to a closed connection without an error: the
    // request's signal is what tells that the client is gone.
    const gone = (): void => {
      stream.abort();
      onDisconnect();
    };
    if (signal.aborted) return gone();
    signal.addEventListener("abort", gone, { once: true });
    const heartbeat = setInterval(() => {
      if (!stream.aborted) void stream.write(": heartbeat\n\n");
    }, heartbeatMs);
    try {
      for await (const event of runs.follow(runId, afterId, signal)) {
        if (stream.aborted || signal.aborted) break;
        await stream.writeSSE({ id: String(event.id), event: event.type, data: JSON.stringify(event) });
      }
    } finally {
      clearInterval(heartbeat);
      signal.removeEventListener("abort", gone);
    }
  });
}

/** A listing's filter from its query: times compared as the store writes them (UTC, toISOString), the cursor checked. */
function runFilter(query: RunListQuery | PreferencesQuery): RunFilter {
  const cursor = "cursor" in query ? query.cursor : undefined;
  if (cursor !== undefined && decodeCursor(cursor) === undefined) throw new InvalidRequestError("cursor", "cursor: not a next_cursor this server gave");
  const utc = (time: string | undefined): string | undefined => (time === undefined ? undefined : new Date(time).toISOString());
  return { ...query, since: utc(query.since), until: utc(query.until), cursor, limit: "limit" in query ? query.limit : undefined };
}

/** The preference pairs of every finished run the filter selects, newest run first, read a page at a time. */
async function* storedPairs(runs: RunManager, filter: RunFilter, signal: AbortSignal): AsyncGenerator<PreferencePair> {
  let cursor: string | undefined;
  do {
    const page = await runs.list({ ...filter, cursor, limit: 100 });
    for (const run of page.runs) {
      if (signal.aborted) return;
      if (run.status !== "running") yield* dpoPairs(await runs.events(run.run_id));
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
}

/** The id to resume after: decimal digits only (`0x10`, `1e3`, `+3` are not ids). */
function lastEventId(context: Context): number {
  const header = (context.req.header("last-event-id") ?? context.req.query("last_event_id") ?? "0").trim();
  if (!/^\d{1,15}$/.test(header)) throw new InvalidRequestError("Last-Event-ID", "Last-Event-ID: must be a non-negative decimal integer");
  return Number(header);
}

export interface SolveRouteOptions {
  readonly maxBodyBytes: number;
  readonly heartbeatMs?: number | undefined;
  readonly scorer?: CandidateScorer | undefined;
  readonly executor: Executor;
}

/** A run must have something to pass: zero public tests would make any program "solved". */
function requirePublicTests(request: SolveRequest): void {
  if (publicTests(request.problem).length > 0) return;
  throw new InvalidRequestError(
    "problem.tests",
    request.problem.doctests
      ? "problem.tests: no public tests, and no examples were found in problem.prompt: give at least one test"
      : "problem.tests: give at least one public test (or set problem.doctests to take them from the prompt)",
  );
}

export function registerSolveRoutes(app: Hono, runs: RunManager, options: SolveRouteOptions): void {
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;

  app.post("/v1/solve", async (context) => {
    const request = await readRequest(context, SolveRequest, { maxBytes: options.maxBodyBytes, languageOf: (body) => body.problem.language });
    requirePublicTests(request);
    if (request.strategy !== "sequential") requireRewardModel(request.judge.method, options.scorer);
    const client = clientOf(context);
    // The language's pool must exist and take work before a model call is spent.
    options.executor.admit(request.problem.language, client);
    const run = runs.start(request, { client });
    const cancelIfAsked = (): void => {
      if (request.on_disconnect === "cancel") run.cancel("the client disconnected");
    };
    if (wantsEvents(context, request.stream)) return streamRun(context, runs, run.id, 0, heartbeatMs, cancelIfAsked);
    const signal = context.req.raw.signal;
    signal.addEventListener("abort", cancelIfAsked, { once: true });
    try {
      const result = await run.done;
      return context.json(result, 200, { "X-Run-Id": run.id });
    } finally {
      signal.removeEventListener("abort", cancelIfAsked);
    }
  });

  const runNotFound = (): never => {
    throw notFound("no such run (or no longer kept)", "run_not_found");
  };

  app.get("/v1/runs", async (context) => {
    const query = parseRequest(RunListQuery, context.req.query());
    const page = await runs.list(runFilter(query));
    const list: RunList = {
      runs: page.runs.map(({ run_id, status, strategy, policy, language, created_at, updated_at, last_event_id }) => ({
        run_id,
        status,
        strategy,
        policy,
        language,
        created_at,
        updated_at,
        last_event_id,
      })),
      next_cursor: page.next_cursor,
    };
    return context.json(list);
  });

  // Every finished run's preference pairs, streamed from the store page by page (the whole history, not one page of it).
  app.get("/v1/preferences", (context) => {
    const filter = runFilter(parseRequest(PreferencesQuery, context.req.query()));
    const signal = context.req.raw.signal;
    context.header("content-type", "application/x-ndjson; charset=utf-8");
    return stream(context, async (output) => {
      for await (const pair of storedPairs(runs, filter, signal)) await output.write(`${JSON.stringify(pair)}\n`);
    });
  });

  app.delete("/v1/runs/:id", async (context) => {
    if (!(await runs.delete(context.req.param("id")))) return runNotFound();
    return context.body(null, 204);
  });

  app.get("/v1/runs/:id", async (context) => {
    const summary = await runs.summary(context.req.param("id"));
    if (summary === undefined) return runNotFound();
    return context.json(summary);
  });

  // The run's preference pairs as JSON Lines, in TRL's DPO format.
  app.get("/v1/runs/:id/preferences", async (context) => {
    const runId = context.req.param("id");
    const summary = await runs.summary(runId);
    if (summary === undefined) return runNotFound();
    if (summary.status === "running") {
      throw new TracefixError("run_not_finished", "server", "the run is still going: its preference pairs are exported once it ends", { runId });
    }
    const pairs = dpoPairs(await runs.events(runId));
    const body = pairs.map((pair) => `${JSON.stringify(pair)}\n`).join("");
    return context.body(body, 200, { "content-type": "application/x-ndjson; charset=utf-8", "X-Pair-Count": String(pairs.length) });
  });

  app.get("/v1/runs/:id/events", async (context) => {
    const runId = context.req.param("id");
    if ((await runs.summary(runId)) === undefined) return runNotFound();
    // Following a run's events never cancels it.
    return streamRun(context, runs, runId, lastEventId(context), heartbeatMs, () => undefined);
  });
}
