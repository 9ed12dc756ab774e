/**
 * The HTTP edge: routes, validation, error mapping. Everything below this
 * folder is plain TypeScript that knows nothing about HTTP.
 */
import { Hono, type Context } from "hono";

import type { RewardModelStatus } from "../judge/index.ts";
import { HAND_ORDER, RepairPolicy, type PolicyModelStatus } from "../policy/index.ts";
import { DEFAULT_ADMISSION, type Executor } from "../sandbox/index.ts";
import { RunManager } from "../scaling/index.ts";
import { MemoryRunStore } from "../store/index.ts";
import { silentLogger, type Logger } from "../shared/logger.ts";
import { loadPrompts } from "../shared/prompts.ts";
import { ExecuteRequest, toExecutionJob } from "../shared/schema/requests.ts";
import { presentReport } from "../trace/index.ts";
import { readRequest } from "./body.ts";
import { clientOf } from "./client.ts";
import { errorResponse } from "./errors.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { Metrics } from "./metrics.ts";
import { registerPlayground } from "./playground.ts";
import { registerFallbacks } from "./routes.ts";
import { registerSelectRoute, type SelectionServices } from "./select.ts";
import { registerSolveRoutes } from "./solve.ts";

export interface ServerDependencies {
  readonly executor: Executor;
  /** Runs of /v1/solve and the runs API; by default runs kept in memory, with no language model. */
  readonly runs?: RunManager | undefined;
  readonly logger?: Logger;
  readonly version?: string;
  /** Largest accepted request body in bytes. */
  readonly maxBodyBytes?: number;
  /** Interval of the SSE heartbeat comment (15 s). */
  readonly heartbeatMs?: number;
  /** How long a /v1/execute request may wait for a sandbox worker before a 503. */
  readonly queueTimeoutMs?: number;
  /** What /v1/select needs (prompts; a judge model and a reward model where configured). */
  readonly selection?: SelectionServices;
  /** The reward model's state, for /healthz. */
  readonly reward?: RewardModelStatus;
  /** The repair search's order (its policy model, or the hand order), for /healthz. */
  readonly policyModel?: PolicyModelStatus;
  /**
   * GET /metrics. Given: its owner has metered the executor (and the models)
   * and passed observeRunEvent to the RunManager. Absent: this app meters
   * the executor it was given, and the runs it makes itself.
   */
  readonly metrics?: Metrics;
  /** Shown in /healthz: the effective configuration (no secrets). */
  readonly configuration?: Record<string, unknown>;
}

export const DEFAULT_MAX_BODY_BYTES = 4 << 20;

export function createApp(dependencies: ServerDependencies): Hono {
  const metrics = dependencies.metrics ?? new Metrics();
  const executor = dependencies.metrics === undefined ? metrics.meterExecutor(dependencies.executor) : dependencies.executor;
  const logger = dependencies.logger ?? silentLogger;
  const startedAt = Date.now();
  const maxBodyBytes = dependencies.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // A job admitted on an estimate still gives up, a little later, if the estimate was wrong.
  const queueTimeoutMs = dependencies.queueTimeoutMs ?? DEFAULT_ADMISSION.maxWaitMs + 500;
  const selection = dependencies.selection ?? { prompts: loadPrompts() };
  const runs = dependencies.runs ?? new RunManager({ policies: { repair: new RepairPolicy() }, executor, prompts: selection.prompts, logger, scorer: selection.scorer }, new MemoryRunStore(), { onEvent: (event) => metrics.observeRunEvent(event) });
  metrics.watch({ executor, liveRuns: () => runs.running });
  const app = new Hono();

  app.onError((error, context) => {
    metrics.observeError(error);
    return errorResponse(context, error, logger);
  });

  app.get("/metrics", async (context) => context.body(await metrics.text(), 200, { "content-type": metrics.contentType }));

  app.get("/healthz", (context) => {
    const sandbox = executor.health();
    return context.json({
      status: sandbox.ok ? "ok" : "degraded",
      version: dependencies.version ?? "dev",
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      sandbox,
      runs: { live: runs.running, model_configured: runs.modelConfigured, store: runs.storeDescription },
      reward: dependencies.reward ?? { loaded: false, reason: "not loaded by this server" },
      policy_model: dependencies.policyModel ?? { loaded: false, order: HAND_ORDER.name, reason: "not loaded by this server" },
      ...(dependencies.configuration === undefined ? {} : { configuration: dependencies.configuration }),
    });
  });

  const openapi = buildOpenApiDocument(dependencies.version ?? "dev");
  app.get("/openapi.json", (context) => context.json(openapi));

  app.post("/v1/execute", async (context: Context) => {
    const request = await readRequest(context, ExecuteRequest, { maxBytes: maxBodyBytes, languageOf: (body) => body.language });
    const client = clientOf(context);
    executor.admit(request.language, client);
    const job = toExecutionJob(request);
    const report = await executor.execute(job, { signal: context.req.raw.signal, client, queueTimeoutMs });
    return context.json(presentReport(job, report));
  });

  registerSolveRoutes(app, runs, { maxBodyBytes, heartbeatMs: dependencies.heartbeatMs, scorer: selection.scorer, executor });
  registerSelectRoute(app, executor, selection, logger, maxBodyBytes);
  registerPlayground(app);
  registerFallbacks(app);
  return app;
}
