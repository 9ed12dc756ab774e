/**
 * The HTTP edge: routes, validation, error mapping. Everything below this
 * folder is plain TypeScript that knows nothing about HTTP.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";

import type { RewardModelStatus } from "../judge/index.ts";
import type { Executor } from "../sandbox/index.ts";
import type { RunManager } from "../scaling/index.ts";
import { AbortedError, InvalidRequestError, TracefixError } from "../shared/errors.ts";
import { silentLogger, type Logger } from "../shared/logger.ts";
import { ExecuteRequest, toExecutionJob } from "../shared/schema/requests.ts";
import { presentReport } from "../trace/index.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { registerSelectRoute, type SelectionServices } from "./select.ts";
import { registerSolveRoutes } from "./solve.ts";
import { loadPrompts } from "../shared/prompts.ts";
import { parseRequest } from "./validation.ts";

export interface ServerDependencies {
  readonly executor: Executor;
  /** Runs of /v1/solve; undefined when no language model is configured. */
  readonly runs?: RunManager | undefined;
  readonly logger?: Logger;
  readonly version?: string;
  /** Largest accepted request body in bytes. */
  readonly maxBodyBytes?: number;
  /** Interval of the SSE heartbeat comment (15 s). */
  readonly heartbeatMs?: number;
  /** What /v1/select needs (prompts; a judge model and a reward model where configured). */
  readonly selection?: SelectionServices;
  /** The reward model's state, for /healthz. */
  readonly reward?: RewardModelStatus;
}

export const DEFAULT_MAX_BODY_BYTES = 4 << 20;

function errorBody(error: TracefixError): { error: Record<string, unknown> } {
  return { error: error.toJSON() };
}

async function readJson(context: Context): Promise<unknown> {
  try {
    return await context.req.json();
  } catch {
    throw new InvalidRequestError("body", "body: not valid JSON");
  }
}

export function createApp(dependencies: ServerDependencies): Hono {
  const { executor } = dependencies;
  const logger = dependencies.logger ?? silentLogger;
  const startedAt = Date.now();
  const maxBodyBytes = dependencies.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const app = new Hono();

  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (context) =>
      context.json(
        errorBody(new InvalidRequestError("body", `body: larger than the ${maxBodyBytes}-byte limit`)),
        400,
      ),
  });

  app.onError((error, context) => {
    if (error instanceof InvalidRequestError) return context.json(errorBody(error), 400);
    if (error instanceof AbortedError) return context.json(errorBody(error), 499 as 400);
    // A client asking too early is not a server error.
    if (error instanceof TracefixError && error.code === "run_not_finished") return context.json(errorBody(error), 409);
    if (error instanceof TracefixError) {
      logger.error(error.message, { code: error.code, stage: error.stage });
      const unavailable = ["executor_closed", "model_not_configured", "reward_model_unavailable", "language_unavailable"].includes(error.code);
      return context.json(errorBody(error), unavailable ? 503 : 500);
    }
    logger.error("unhandled error", { error: String(error), stack: (error as Error).stack });
    return context.json({ error: { code: "internal_error", stage: "server", message: "internal error" } }, 500);
  });

  app.notFound((context) =>
    context.json({ error: { code: "not_found", stage: "server", message: `no route for ${context.req.method} ${context.req.path}` } }, 404),
  );

  app.get("/healthz", (context) => {
    const sandbox = executor.health();
    return context.json({
      status: sandbox.ok ? "ok" : "degraded",
      version: dependencies.version ?? "dev",
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      sandbox,
      runs: { live: dependencies.runs?.running ?? 0, model_configured: dependencies.runs !== undefined },
      reward: dependencies.reward ?? { loaded: false, reason: "not loaded by this server" },
    });
  });

  app.get("/openapi.json", (context) => context.json(buildOpenApiDocument(dependencies.version ?? "dev")));

  app.post("/v1/execute", limitBody, async (context) => {
    const request = parseRequest(ExecuteRequest, await readJson(context));
    const job = toExecutionJob(request);
    const report = await executor.execute(job, { signal: context.req.raw.signal });
    return context.json(presentReport(job, report));
  });

  const selection = dependencies.selection ?? { prompts: loadPrompts() };
  registerSolveRoutes(app, dependencies.runs, maxBodyBytes, dependencies.heartbeatMs, selection.scorer);
  registerSelectRoute(app, executor, selection, logger, maxBodyBytes);

  return app;
}
