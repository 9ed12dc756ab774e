/**
 * One error class per failure, each with a stable `code`, the `stage` that
 * raised it and, where there is one, the run it belongs to. Clients match on
 * `code`; messages are for people.
 */

export type Stage = "server" | "scaling" | "policy" | "sandbox" | "trace" | "judge" | "store";

export interface TracefixErrorOptions {
  readonly runId?: string | undefined;
  readonly cause?: unknown;
  readonly details?: Record<string, unknown> | undefined;
}

export class TracefixError extends Error {
  readonly code: string;
  readonly stage: Stage;
  readonly runId: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, stage: Stage, message: string, options: TracefixErrorOptions = {}) {
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
  constructor(code: string, message: string, options: TracefixErrorOptions = {}) {
    super(code, "sandbox", message, options);
  }
}

/** The caller gave up (client disconnect, deadline): not a failure of the work itself. */
export class AbortedError extends TracefixError {
  constructor(stage: Stage, message = "the operation was cancelled", options: TracefixErrorOptions = {}) {
    super("aborted", stage, message, options);
  }
}

export function isAbortError(error: unknown): boolean {
  return (
    error instanceof AbortedError ||
    (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError"))
  );
}

/** The language model could not be used: unreachable, refusing, failing, or not configured. */
export class PolicyError extends TracefixError {
  readonly status: number | undefined;
  /** Requests sent to the endpoint before giving up (they count as LLM calls). */
  readonly attempts: number;
  constructor(code: string, message: string, options: TracefixErrorOptions & { status?: number | undefined; attempts?: number } = {}) {
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
