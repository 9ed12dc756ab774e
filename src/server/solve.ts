/**
 * POST /v1/solve and the runs API. SSE framing happens only here: the
 * strategy yields typed events, the run manager numbers and keeps them,
 * this file writes them as `event:`/`id:`/`data:`.
 */
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";

import { dpoPairs, type CandidateScorer } from "../judge/index.ts";
import type { RunManager } from "../scaling/index.ts";
import { InvalidRequestError, TracefixError } from "../shared/errors.ts";
import { RunListQuery, type RunList } from "../shared/schema/runs.ts";
import { SolveRequest } from "../shared/schema/solve.ts";
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

function lastEventId(context: Context): number {
  const header = context.req.header("last-event-id") ?? context.req.query("last_event_id") ?? "0";
  const parsed = Number(header);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidRequestError("Last-Event-ID", "Last-Event-ID: must be a non-negative integer");
  return parsed;
}

export function registerSolveRoutes(
  app: Hono,
  runs: RunManager | undefined,
  maxBodyBytes: number,
  heartbeatMs = HEARTBEAT_MS,
  scorer?: CandidateScorer,
): void {
  const requireRuns = (): RunManager => {
    if (runs === undefined) {
      throw new TracefixError(
        "model_not_configured",
        "policy",
        "no language model is configured: set TRACEFIX_LLM_BASE_URL (and TRACEFIX_LLM_MODEL, TRACEFIX_LLM_API_KEY) or OPENAI_API_KEY",
      );
    }
    return runs;
  };

  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (context) =>
      context.json({ error: new InvalidRequestError("body", `body: larger than the ${maxBodyBytes}-byte limit`).toJSON() }, 400),
  });

  app.post("/v1/solve", limitBody, async (context) => {
    let body: unknown;
    try {
      body = await context.req.json();
    } catch {
      throw new InvalidRequestError("body", "body: not valid JSON");
    }
    const request = parseRequest(SolveRequest, body);
    const manager = requireRuns();
    if (request.strategy !== "sequential") requireRewardModel(request.judge.method, scorer);
    const run = manager.start(request);
    const cancelIfAsked = (): void => {
      if (request.on_disconnect === "cancel") run.cancel("the client disconnected");
    };
    if (wantsEvents(context, request.stream)) return streamRun(context, manager, run.id, 0, heartbeatMs, cancelIfAsked);
    const signal = context.req.raw.signal;
    signal.addEventListener("abort", cancelIfAsked, { once: true });
    try {
      const result = await run.done;
      return context.json(result, 200, { "X-Run-Id": run.id });
    } finally {
      signal.removeEventListener("abort", cancelIfAsked);
    }
  });

  const runNotFound = (context: Context): Response =>
    context.json({ error: { code: "run_not_found", stage: "server", message: "no such run (or no longer kept)" } }, 404);

  app.get("/v1/runs", async (context) => {
    const query = parseRequest(RunListQuery, context.req.query());
    const summaries = await requireRuns().list({ status: query.status, limit: query.limit });
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
    const summary = await requireRuns().summary(context.req.param("id"));
    if (summary === undefined) return runNotFound(context);
    return context.json(summary);
  });

  // The run's preference pairs as JSON Lines, in TRL's DPO format.
  app.get("/v1/runs/:id/preferences", async (context) => {
    const manager = requireRuns();
    const runId = context.req.param("id");
    const summary = await manager.summary(runId);
    if (summary === undefined) return runNotFound(context);
    if (summary.status === "running") {
      throw new TracefixError("run_not_finished", "server", "the run is still going: its preference pairs are exported once it ends", { runId });
    }
    const pairs = dpoPairs(await manager.events(runId));
    const body = pairs.map((pair) => `${JSON.stringify(pair)}\n`).join("");
    return context.body(body, 200, { "content-type": "application/x-ndjson; charset=utf-8", "X-Pair-Count": String(pairs.length) });
  });

  app.get("/v1/runs/:id/events", async (context) => {
    const manager = requireRuns();
    const runId = context.req.param("id");
    if ((await manager.summary(runId)) === undefined) return runNotFound(context);
    // Following a run's events never cancels it.
    return streamRun(context, manager, runId, lastEventId(context), heartbeatMs, () => undefined);
  });
}
