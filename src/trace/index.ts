/** The trace stage: raw traces rendered for a model, within a budget, with secrets masked. */
import type { ExecutionJob, ExecutionReport, TestReport } from "../shared/schema/execution.ts";
import { redactReport, redactText } from "./redact.ts";
import { render } from "./render.ts";

export { REDACTED, REDACTED_EMAIL, isSecretName, isSecretValue, redactReport, redactTestReport, redactText, redactTrace } from "./redact.ts";
export { RENDERERS, codeexecutor, concise, next, none, render, scratchpad, semcoder, type Renderer, type RenderingOptions } from "./render.ts";
export { callExpression, describeTest, literalIn } from "./python-text.ts";
export { pythonLiteral, WRITING, type LanguageWriting } from "./language.ts";
export { fromJson, LiteralError, parseLiteral, printLiteral, toJson, type PyValue } from "./python-literal.ts";
export { javascriptLiteral } from "./javascript-text.ts";

/**
 * The report as it may leave the server: secrets masked everywhere (raw
 * traces included), and each failing test given its `rendering` in the
 * job's format and budget, rendered from the already-masked trace.
 */
export function presentReport(job: ExecutionJob, report: ExecutionReport): ExecutionReport {
  const masked = redactReport(report);
  return {
    ...masked,
    tests: masked.tests.map((test): TestReport => {
      if (test.status === "passed") return test;
      const rendering = render(job.trace.format, job.code, job.tests[test.index], test, {
        budget: job.trace.budget,
        entryPoint: job.entryPoint,
        language: job.language,
      });
      return { ...test, rendering: redactText(rendering) };
    }),
  };
}
export { diagnostics, orderFailures, type DiagnosticsOptions } from "./diagnostics.ts";
export { entryPointInstruction, testsText, testText } from "./problem-text.ts";
