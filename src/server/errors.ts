/**
 * The one place errors become HTTP responses: a status per error code, one
 * body shape (`{error: {code, stage, message, run_id?, field?, details?}}`)
 * for every error the server answers, 404s and 405s included, and a
 * Retry-After header when the server asks the client to come back.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

import { AbortedError, OverloadedError, TracefixError, type Stage } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";

const STATUS_BY_CODE: Readonly<Record<string, ContentfulStatusCode>> = {
  invalid_request: 400,
  not_found: 404,
  run_not_found: 404,
  method_not_allowed: 405,
  run_not_finished: 409,
  // The client went away: nobody reads this answer, 499 is nginx's name for it.
  aborted: 499 as ContentfulStatusCode,
  too_many_requests: 429,
  sandbox_busy: 503,
  too_many_runs: 503,
  executor_closed: 503,
  model_not_configured: 503,
  reward_model_unavailable: 503,
  language_unavailable: 503,
};

export function statusOf(error: TracefixError): ContentfulStatusCode {
  return STATUS_BY_CODE[error.code] ?? 500;
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

export function notFound(message: string, code = "not_found", stage: Stage = "server"): TracefixError {
  return new TracefixError(code, stage, message);
}
