/**
 * POST /v1/solve and the runs API. SSE framing happens only here: the
 * strategy yields typed events, the run manager numbers and keeps them,
 * this file writes them as `event:`/`id:`/`data:`.
 */
import type { Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";

import { dpoPairs, type CandidateScorer } from "../judge/index.ts";
import type { Executor } from "../sandbox/index.ts";
import { publicTests, type RunManager } from "../scaling/index.ts";
import { InvalidRequestError, TracefixError } from "../shared/errors.ts";
import { RunListQuery, type RunList } from "../shared/schema/runs.ts";
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
    const summaries = await runs.list({ status: query.status, limit: query.limit });
    const list: RunList = {
      runs: summaries.map(({ run_id, status, strategy, created_at, updated_at, last_event_id }) => ({
        run_id,
        status,
        strategy,
        created_at,
        updated_at,
        last_event_id,
      })),
    };
    return context.json(list);
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
