/**
 * The one place errors become HTTP responses: a status per error code, one
 * body shape (`{error: {code, stage, message, run_id?, field?, details?}}`)
 * for every error the server answers, 404s and 405s included, and a
 * Retry-After header when the server asks the client to come back.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

import { AbortedError, OverloadedError, TracefixError, type ErrorCode, type Stage } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";

/** The HTTP status of every error code (exhaustive: a new code does not compile until it has one). */
const STATUS_BY_CODE: Readonly<Record<ErrorCode, ContentfulStatusCode>> = {
  invalid_request: 400,
  not_found: 404,
  run_not_found: 404,
  method_not_allowed: 405,
  run_not_finished: 409,
  internal_error: 500,
  config_invalid: 500,
  prompt_invalid: 500,
  prompt_value_missing: 500,
  // dist/web is made by `npm run build:web` (at install, before start and tests).
  playground_not_built: 503,
  store_unavailable: 503,
  // Only ever in a run.failed event: the server running the run stopped before it ended.
  server_restarted: 503,
  too_many_requests: 429,
  sandbox_busy: 503,
  too_many_runs: 503,
  executor_closed: 503,
  language_unavailable: 503,
  worker_start_failed: 503,
  worker_exited: 500,
  python_unavailable: 503,
  python_too_old: 503,
  harness_error: 500,
  sandbox_stuck: 500,
  sandbox_error: 500,
  reply_too_large: 500,
  unserializable_request: 500,
  malformed_request: 500,
  job_not_delivered: 500,
  // The client went away: nobody reads this answer; 499 is nginx's name for it.
  cancelled: 499 as ContentfulStatusCode,
  aborted: 499 as ContentfulStatusCode,
  model_not_configured: 503,
  // A problem the edit search cannot take (no program to repair) and no model to write one.
  model_required: 422,
  model_unreachable: 502,
  model_bad_response: 502,
  model_timeout: 504,
  model_rate_limited: 503,
  model_server_error: 502,
  model_auth_failed: 502,
  model_not_found: 502,
  model_request_rejected: 502,
  // The policy model is loaded at start-up only; a failure there falls back to the hand order, so no request sees these.
  policy_model_missing: 503,
  policy_model_mismatch: 503,
  policy_model_unreadable: 503,
  deadline_exceeded: 504,
  no_program: 502,
  reward_model_unavailable: 503,
  reward_model_missing: 503,
  reward_model_mismatch: 503,
  reward_model_unreadable: 503,
};

export function statusOf(error: TracefixError): ContentfulStatusCode {
  return STATUS_BY_CODE[error.code];
}

export function errorBody(error: TracefixError): { error: Record<string, unknown> } {
  return { error: error.toJSON() };
}

/** An error answered with its status; server errors are logged, never shown with their stack. */
export function errorResponse(context: Context, error: unknown, logger: Logger): Response {
  if (!(error instanceof TracefixError)) {
    logger.error("unhandled error", { error: String(error), stack: (error as Error | undefined)?.stack });
    return context.json(errorBody(new TracefixError("internal_error", "server", "internal error")), 500);
  }
  const status = statusOf(error);
  // Refusing work when full is the server doing its job, not failing: no error line per refusal.
  const expected = error instanceof AbortedError || error instanceof OverloadedError;
  if (status >= 500 && !expected) logger.error(error.message, { code: error.code, stage: error.stage, run_id: error.runId });
  if (error instanceof OverloadedError) context.header("Retry-After", String(error.retryAfterSeconds));
  return context.json(errorBody(error), status);
}

export function notFound(message: string, code: "not_found" | "run_not_found" = "not_found", stage: Stage = "server"): TracefixError {
  return new TracefixError(code, stage, message);
}
