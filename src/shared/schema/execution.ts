/**
 * Tests, limits, execution reports and raw traces: the contract between the
 * sandbox, the trace renderings, the server and its clients (architecture/overview.md,
 * "Tests" and "Execution report"). One definition, used to validate requests,
 * to type the code and to generate /openapi.json.
 */
import { z } from "zod";

import { LANGUAGES, TRACE_FORMATS } from "./names.ts";

export { LANGUAGES, TRACE_FORMATS };
export const Language = z.enum(LANGUAGES);
export type Language = z.infer<typeof Language>;

const MAX_TEXT = 1_000_000;

export const CallTest = z
  .strictObject({
    kind: z.literal("call"),
    name: z.string().max(200).optional(),
    args: z.array(z.unknown()).optional().describe("arguments as JSON values"),
    input: z.string().max(MAX_TEXT).optional().describe("the argument list as a source-language expression, e.g. \"[1, [2, 3]]\""),
    kwargs: z.record(z.string(), z.unknown()).optional(),
    expected: z.unknown().optional().describe("the expected return value as JSON"),
    output: z.string().max(MAX_TEXT).optional().describe("the expected return value as a source-language expression"),
    rel_tol: z.number().min(0).max(1).optional(),
    abs_tol: z.number().min(0).optional(),
  })
  .superRefine((test, context) => {
    if ((test.args === undefined) === (test.input === undefined)) {
      context.addIssue({ code: "custom", path: ["args"], message: "a call test needs exactly one of args or input" });
    }
    if (test.expected !== undefined && test.output !== undefined) {
      context.addIssue({ code: "custom", path: ["output"], message: "give expected or output, not both" });
    }
  });

export const StdioTest = z.strictObject({
  kind: z.literal("stdio"),
  name: z.string().max(200).optional(),
  stdin: z.string().max(MAX_TEXT).default(""),
  stdout: z.string().max(MAX_TEXT).optional().describe("expected output; trailing whitespace per line is ignored"),
});

export const AssertTest = z.strictObject({
  kind: z.literal("assert"),
  name: z.string().max(200).optional(),
  code: z
    .string()
    .min(1)
    .max(MAX_TEXT)
    .describe("test code, e.g. HumanEval's check(candidate) or MBPP-style module-level asserts"),
});

export const TestSpec = z.discriminatedUnion("kind", [CallTest, StdioTest, AssertTest]);
export type TestSpec = z.infer<typeof TestSpec>;

/**
 * What a language's tests cannot use: keyword arguments exist only in Python.
 * Adds an issue naming the field (e.g. `tests.2.kwargs`).
 */
export function checkTestsForLanguage(
  language: Language,
  tests: readonly TestSpec[],
  context: { addIssue(issue: { code: "custom"; path: (string | number)[]; message: string }): void },
  path: (string | number)[],
): void {
  if (language !== "javascript") return;
  tests.forEach((test, index) => {
    if (test.kind === "call" && test.kwargs !== undefined) {
      context.addIssue({ code: "custom", path: [...path, index, "kwargs"], message: "JavaScript calls have no keyword arguments: pass an object in args" });
    }
  });
}

export const TRACE_MODES = ["none", "failing", "all"] as const;

export const TraceFormat = z.enum(TRACE_FORMATS);
export type TraceFormat = z.infer<typeof TraceFormat>;

export const TraceCapture = z.strictObject({
  mode: z.enum(TRACE_MODES).default("failing").describe("which tests are re-run traced after the untraced run"),
  format: TraceFormat.default("concise").describe("how a failing test's trace is rendered for a model (`rendering`)"),
  budget: z.int().min(200).max(200_000).default(4_000).describe("characters a rendering may take"),
  max_events: z.int().min(100).max(1_000_000).default(10_000),
  repr_limit: z.int().min(16).max(2_000).default(80),
  max_tests: z.int().min(1).max(100).default(3).describe("at most this many failing tests are re-run traced"),
  probe: z
    .strictObject({
      line: z.int().min(1),
      expression: z.string().min(1).max(500),
    })
    .optional()
    .describe("Python: also evaluate `expression` in the program's frame each time `line` is about to run in a traced test (the trace's `probe`)"),
});
export type TraceCapture = z.infer<typeof TraceCapture>;

export const Limits = z.strictObject({
  timeout_ms: z.int().min(10).max(60_000).default(3_000).describe("wall-clock limit per test"),
  memory_mb: z.int().min(64).max(8_192).default(512).describe("address-space limit of the program's process"),
  output_bytes: z.int().min(1_024).max(16 << 20).default(65_536).describe("stdout + stderr per test"),
  total_ms: z
    .int()
    .min(100)
    .max(600_000)
    .default(60_000)
    .describe(
      "wall-clock budget of the whole run (every test, traced re-runs included): a test that would start after it is spent is not run and reported as `timeout` with error type `BudgetExhausted`; each test's own limit is cut to what is left",
    ),
});
export type Limits = z.infer<typeof Limits>;

export const MAX_TESTS_PER_REQUEST = 500;
export const MAX_CODE_CHARS = 256_000;

/** Test statuses from best to worst: the ETA severity order every ranking and every diagnostics block uses. */
export const TEST_STATUSES = [
  "passed",
  "wrong_answer",
  "runtime_error",
  "timeout",
  "memory_limit",
  "output_limit",
  "syntax_error",
] as const;
export const TestStatus = z.enum(TEST_STATUSES);
export type TestStatus = z.infer<typeof TestStatus>;

/** 0 for passed, larger for worse failures (TEST_STATUSES' order). */
export function statusSeverity(status: TestStatus): number {
  return TEST_STATUSES.indexOf(status);
}

export const TraceEvent = z.object({
  step: z.int().nullable().describe("ordinal of the event in the run; null inside a tail whose offset is unknown"),
  event: z.enum(["call", "line", "return", "exception"]),
  line: z.int(),
  function: z.string(),
  depth: z.int(),
  locals: z.record(z.string(), z.string()).optional().describe("bounded reprs; for a line, the state after it ran"),
  changed: z.array(z.string()).optional().describe("names the line (or call) created or modified"),
  value: z.string().optional().describe("return value, or the exception as 'Type: message'"),
});
export type TraceEvent = z.infer<typeof TraceEvent>;

const ProbeValue = z.object({
  step: z.int().describe("the line event's step"),
  value: z.string().optional().describe("bounded repr"),
  error: z.string().optional().describe("what evaluating the expression raised"),
});

export const RawTrace = z.object({
  events: z.array(TraceEvent),
  backend: z.enum(["settrace", "monitoring", "instrumented"]),
  truncated: z.boolean(),
  total_events: z.int().nullable(),
  total_steps: z.int().nullable().describe("executed line events; null when the middle of a long run was not counted"),
  steps_at_least: z.int().optional(),
  gap: z
    .object({
      after_step: z.int(),
      events: z.int().nullable(),
      reason: z.string().optional(),
    })
    .nullable()
    .describe("where the head of a truncated trace ends and its tail begins"),
  duration_ms: z.number().optional().describe("the traced re-run's own time, tail replay included"),
  probe: z
    .object({
      line: z.int(),
      expression: z.string(),
      count: z.int().describe("times the line was about to run while the trace was recorded"),
      first: z.array(ProbeValue),
      last: z.array(ProbeValue).describe("the last values, after the first (those between are only counted)"),
      error: z.string().optional().describe("the expression does not compile"),
    })
    .optional()
    .describe("trace.probe's values (Python)"),
});
export type RawTrace = z.infer<typeof RawTrace>;

export const ErrorInfo = z.object({
  type: z.string(),
  message: z.string(),
  line: z.int().nullable(),
  traceback: z.string().optional(),
  offset: z.int().nullable().optional(),
  assertion: z
    .object({ operator: z.string(), left: z.string(), right: z.string().nullable(), source: z.string() })
    .optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfo>;

export const TestReport = z.object({
  index: z.int(),
  kind: z.enum(["call", "stdio", "assert"]),
  name: z.string().optional(),
  status: TestStatus,
  expected: z.string().nullable(),
  actual: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  output_truncated: z.boolean(),
  error: ErrorInfo.nullable(),
  steps: z.int().nullable().describe("executed line events, when traced"),
  steps_at_least: z.int().optional(),
  duration_ms: z.number().nullable().describe("the test's own time; null when it did not end by itself (a timeout, a crash): its limit says how long it had"),
  omitted: z
    .object({
      stdout_bytes: z.int().optional(),
      stderr_bytes: z.int().optional(),
      trace_events: z.int().optional(),
    })
    .optional()
    .describe("what was left out of this report to keep the reply within its size bound (bytes of output, events of the trace)"),
  trace: RawTrace.optional(),
  rendering: z.string().optional().describe("failing tests: the feedback and trace as a model would read it, within trace.budget"),
});
export type TestReport = z.infer<typeof TestReport>;

export const ExecutionReport = z.object({
  status: z.enum(["passed", "failed", "error"]),
  language: Language,
  passed: z.int(),
  total: z.int(),
  tests: z.array(TestReport),
  duration_ms: z.number(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type ExecutionReport = z.infer<typeof ExecutionReport>;

/** What an executor runs: one program against its tests. Validated upstream. */
export interface ExecutionJob {
  readonly language: Language;
  readonly code: string;
  readonly entryPoint: string | undefined;
  readonly tests: readonly TestSpec[];
  readonly trace: TraceCapture;
  readonly limits: Limits;
}
