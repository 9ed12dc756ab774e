/**
 * One error class per failure, each with a stable `code`, the `stage` that
 * raised it and, where there is one, the run it belongs to. Clients match on
 * `code`; messages are for people.
 */

export type Stage = "server" | "scaling" | "policy" | "sandbox" | "trace" | "judge" | "store";

/**
 * Every error code the server can answer or a run can fail with. A client
 * matches on these; server/errors.ts gives each its HTTP status.
 */
export const ERROR_CODES = [
  // the request and the server
  "invalid_request",
  "not_found",
  "run_not_found",
  "method_not_allowed",
  "run_not_finished",
  "internal_error",
  "config_invalid",
  "prompt_invalid",
  "prompt_value_missing",
  "playground_not_built",
  // the run store
  "store_unavailable",
  "server_restarted",
  // admission
  "too_many_requests",
  "sandbox_busy",
  "too_many_runs",
  // the sandbox
  "executor_closed",
  "language_unavailable",
  "worker_start_failed",
  "worker_exited",
  "python_unavailable",
  "python_too_old",
  "harness_error",
  "sandbox_stuck",
  "sandbox_error",
  "reply_too_large",
  "unserializable_request",
  "malformed_request",
  "job_not_delivered",
  "cancelled",
  // the policy and its model
  "model_not_configured",
  "model_required",
  "model_unreachable",
  "model_bad_response",
  "model_timeout",
  "model_rate_limited",
  "model_server_error",
  "model_auth_failed",
  "model_not_found",
  "model_request_rejected",
  "policy_model_missing",
  "policy_model_mismatch",
  "policy_model_unreadable",
  // runs
  "aborted",
  "deadline_exceeded",
  "no_program",
  // the judge
  "reward_model_unavailable",
  "reward_model_missing",
  "reward_model_mismatch",
  "reward_model_unreadable",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** A code from outside (a harness reply): itself when known, else `harness_error`. */
export function knownCode(code: string | undefined, fallback: ErrorCode = "harness_error"): ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code ?? "") ? (code as ErrorCode) : fallback;
}

export interface TracefixErrorOptions {
  readonly runId?: string | undefined;
  readonly cause?: unknown;
  readonly details?: Record<string, unknown> | undefined;
}

export class TracefixError extends Error {
  readonly code: ErrorCode;
  readonly stage: Stage;
  readonly runId: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, stage: Stage, message: string, options: TracefixErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.stage = stage;
    this.runId = options.runId;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      stage: this.stage,
      message: this.message,
      ...(this.runId === undefined ? {} : { run_id: this.runId }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** A request that does not match its schema; `field` is the dotted path of the first problem. */
export class InvalidRequestError extends TracefixError {
  readonly field: string;
  constructor(field: string, message: string, details?: Record<string, unknown>) {
    super("invalid_request", "server", message, { details });
    this.field = field;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), field: this.field };
  }
}

/** The sandbox itself could not run a program (not: the program failed). */
export class SandboxError extends TracefixError {
  constructor(code: ErrorCode, message: string, options: TracefixErrorOptions = {}) {
    super(code, "sandbox", message, options);
  }
}

/** The caller gave up (client disconnect, deadline): not a failure of the work itself. */
export class AbortedError extends TracefixError {
  constructor(stage: Stage, message = "the operation was cancelled", options: TracefixErrorOptions = {}) {
    super("aborted", stage, message, options);
  }
}


/** The language model could not be used: unreachable, refusing, failing, or not configured. */
export class PolicyError extends TracefixError {
  readonly status: number | undefined;
  /** Requests sent to the endpoint before giving up (they count as LLM calls). */
  readonly attempts: number;
  constructor(code: ErrorCode, message: string, options: TracefixErrorOptions & { status?: number | undefined; attempts?: number } = {}) {
    super(code, "policy", message, options);
    this.status = options.status;
    this.attempts = options.attempts ?? 0;
  }
}

/**
 * A model request given up because its caller stopped (deadline, client
 * gone) while it was waiting to retry: it says what the endpoint had been
 * answering, and how many requests were sent.
 */
export class PolicyAbortedError extends AbortedError {
  readonly attempts: number;
  readonly lastFailure: PolicyError | undefined;
  constructor(message: string, attempts: number, lastFailure: PolicyError | undefined) {
    super("policy", message, { cause: lastFailure, details: lastFailure === undefined ? undefined : { last_error: lastFailure.code } });
    this.attempts = attempts;
    this.lastFailure = lastFailure;
  }
}

/**
 * The server will not take this work now: a client's own queue is full
 * (`too_many_requests`, HTTP 429) or the sandbox is saturated
 * (`sandbox_busy`, `too_many_runs`, HTTP 503). `retryAfterSeconds` becomes
 * the Retry-After header.
 */
export class OverloadedError extends TracefixError {
  readonly retryAfterSeconds: number;
  constructor(code: "too_many_requests" | "sandbox_busy" | "too_many_runs", stage: Stage, message: string, retryAfterSeconds: number) {
    super(code, stage, message, { details: { retry_after_s: retryAfterSeconds } });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A configuration value that stops the start: names the variable (or config-file key). */
export class ConfigError extends TracefixError {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super("config_invalid", "server", `${variable}: ${message}`);
    this.variable = variable;
  }
}
