/**
 * Features of a candidate program for the reward model: code + execution
 * report → float32 vector. The names, their order and the version are
 * written into the model's metadata by the trainer; a model whose features
 * differ from these is refused (onnx.ts). One extractor serves the training
 * data generator and the server, so both see the same numbers.
 *
 * Every feature is scaled to about [0, 1].
 */
import type { ExecutionReport } from "../../shared/schema/execution.ts";

export const FEATURE_VERSION = "tracefix-reward-features/1";

export const FEATURE_NAMES = [
  "pass_fraction",
  "all_passed",
  "wrong_answer_share",
  "runtime_error_share",
  "resource_failure_share",
  "syntax_error",
  "steps_before_failure",
  "steps_known",
  "trace_truncated",
  "agreement",
  "agreement_known",
  "error_line_known",
  "code_lines",
  "code_characters",
  "printed_output_share",
  "duration",
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];

export const FEATURE_COUNT = FEATURE_NAMES.length;

const LOG_MILLION = Math.log1p(1_000_000);
const LOG_THOUSAND = Math.log1p(1_000);
const LOG_100K = Math.log1p(100_000);

function scaledLog(value: number, scale: number): number {
  return Math.min(1, Math.log1p(Math.max(0, value)) / scale);
}

/**
 * The features of one candidate. `agreement`: the share of the other
 * candidates whose outputs match this one's, when there are others to
 * compare with.
 */
export function extractFeatures(code: string, report: ExecutionReport, agreement?: number): Float32Array {
  const tests = report.tests;
  const total = Math.max(1, tests.length);
  let passed = 0;
  let wrong = 0;
  let runtime = 0;
  let resource = 0;
  let syntax = 0;
  let steps = 0;
  let traced = 0;
  let truncated = 0;
  let errorLine = 0;
  let printed = 0;
  let duration = 0;
  for (const test of tests) {
    switch (test.status) {
      case "passed":
        passed += 1;
        break;
      case "wrong_answer":
        wrong += 1;
        break;
      case "runtime_error":
        runtime += 1;
        break;
      case "syntax_error":
        syntax += 1;
        break;
      default:
        resource += 1;
    }
    if (test.status !== "passed" && (test.steps !== null || test.steps_at_least !== undefined)) {
      steps += test.steps ?? test.steps_at_least ?? 0;
      traced += 1;
    }
    if (test.trace?.truncated) truncated += 1;
    if (test.error?.line !== null && test.error?.line !== undefined) errorLine += 1;
    if (test.stdout !== "") printed += 1;
    duration += test.duration_ms ?? 0;
  }
  const lines = code.split("\n").filter((line) => line.trim() !== "").length;
  const values: Record<FeatureName, number> = {
    pass_fraction: tests.length === 0 ? 0 : passed / total,
    all_passed: tests.length > 0 && passed === tests.length && report.status === "passed" ? 1 : 0,
    wrong_answer_share: wrong / total,
    runtime_error_share: runtime / total,
    resource_failure_share: resource / total,
    syntax_error: syntax > 0 ? 1 : 0,
    steps_before_failure: traced === 0 ? 0 : scaledLog(steps / traced, LOG_MILLION),
    steps_known: traced > 0 ? 1 : 0,
    trace_truncated: truncated > 0 ? 1 : 0,
    agreement: agreement ?? 0,
    agreement_known: agreement === undefined ? 0 : 1,
    error_line_known: errorLine / total,
    code_lines: scaledLog(lines, LOG_THOUSAND),
    code_characters: scaledLog(code.length, LOG_100K),
    printed_output_share: printed / total,
    duration: scaledLog(duration / total, LOG_THOUSAND),
  };
  return Float32Array.from(FEATURE_NAMES.map((name) => values[name]));
}
