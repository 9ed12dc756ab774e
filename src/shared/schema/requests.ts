/**
 * Request bodies of the HTTP API. The server validates with these, the tests
 * build requests with them, /openapi.json is generated from them.
 */
import { z } from "zod";

import {
  checkTestsForLanguage,
  Language,
  Limits,
  MAX_CODE_CHARS,
  MAX_TESTS_PER_REQUEST,
  TestSpec,
  TraceCapture,
  type ExecutionJob,
} from "./execution.ts";

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const ExecuteRequest = z.strictObject({
  language: Language.default("python"),
  code: z.string().min(1).max(MAX_CODE_CHARS),
  entry_point: z.string().regex(identifier, "must be an identifier").max(200).optional(),
  tests: z.array(TestSpec).min(1).max(MAX_TESTS_PER_REQUEST),
  trace: TraceCapture.prefault({}),
  limits: Limits.prefault({}),
}).superRefine((request, context) => checkTestsForLanguage(request.language, request.tests, context, ["tests"]));
export type ExecuteRequest = z.infer<typeof ExecuteRequest>;

/**
 * The one way a job is made: every field of ExecutionJob, the trace settings
 * given as far as the caller cares (the rest take their defaults).
 */
export function buildJob(spec: Omit<ExecutionJob, "trace"> & { readonly trace: Partial<TraceCapture> }): ExecutionJob {
  return { ...spec, trace: TraceCapture.parse(spec.trace) };
}

/** The executor's view of a validated /v1/execute request. */
export function toExecutionJob(request: ExecuteRequest): ExecutionJob {
  return buildJob({ language: request.language, code: request.code, entryPoint: request.entry_point, tests: request.tests, trace: request.trace, limits: request.limits });
}
