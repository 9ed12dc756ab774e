/**
 * The diagnostics block a revision prompt carries for one failing program:
 * which tests failed, most informative first (the ETA severity order:
 * wrong answer, runtime error, timeout, memory, output, syntax), the first
 * one rendered with its trace in the requested format, the others as test
 * feedback — all within one character budget.
 */
import { statusSeverity, type ExecutionReport, type Language, type TestReport, type TestSpec, type TraceFormat } from "../shared/schema/execution.ts";
import { fitLines } from "./chronological.ts";
import { redactReport, redactText } from "./redact.ts";
import { render } from "./render.ts";

export interface DiagnosticsOptions {
  readonly format: TraceFormat;
  readonly budget: number;
  readonly entryPoint?: string | undefined;
  readonly language?: Language | undefined;
  /** Failing tests described at most (the first with its trace). */
  readonly maxTests?: number;
}

/** Failing tests, most informative first (the statuses' own order, mildest first); ties keep the tests' order. */
export function orderFailures(tests: readonly TestReport[]): TestReport[] {
  return tests
    .filter((test) => test.status !== "passed")
    .sort((left, right) => statusSeverity(left.status) - statusSeverity(right.status) || left.index - right.index);
}

export function diagnostics(code: string, tests: readonly TestSpec[], report: ExecutionReport, options: DiagnosticsOptions): string {
  const budget = options.budget;
  if (report.status === "error") {
    return fitLines([`The program could not be run: ${report.error?.message ?? "sandbox error"}`], budget);
  }
  const masked = redactReport(report);
  const failures = orderFailures(masked.tests);
  if (failures.length === 0) return fitLines([`All ${report.total} tests passed.`], budget);
  const first = failures[0] as TestReport;
  const heading = `${failures.length} of ${report.total} tests failed.`;
  if (first.status === "syntax_error") {
    // Every test fails the same way: say it once.
    const line = first.error?.line === null || first.error?.line === undefined ? "" : ` (line ${first.error.line})`;
    return fitLines([`The program does not compile: ${first.error?.type ?? "SyntaxError"}: ${first.error?.message ?? ""}${line}`], budget);
  }
  const shown = failures.slice(0, options.maxTests ?? 3);
  const blocks: string[] = [heading];
  let remaining = budget - heading.length;
  shown.forEach((test, position) => {
    const title = `\nFailing test ${position + 1} of ${failures.length}:`;
    // The most informative failure gets most of the room and its trace;
    // the others get their feedback.
    const share = position === 0 ? Math.floor(remaining * (shown.length > 1 ? 0.7 : 1)) : Math.floor(remaining / (shown.length - position));
    const room = share - title.length - 1;
    if (room < 80) return;
    const format = position === 0 ? options.format : "none";
    const text = redactText(render(format, code, tests[test.index], test, { budget: room, entryPoint: options.entryPoint, language: options.language }));
    blocks.push(title, text);
    remaining -= title.length + 1 + text.length;
  });
  if (failures.length > shown.length) {
    const more = `\n(${failures.length - shown.length} more failing tests not shown)`;
    if (remaining >= more.length) blocks.push(more);
  }
  return fitLines(blocks.join("\n").split("\n"), budget);
}
