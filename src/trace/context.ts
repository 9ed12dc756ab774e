/**
 * What every rendering starts from: the program, the test, its report and
 * the raw trace, plus the test feedback block that heads every rendering
 * (and is the whole of the `none` format).
 */
import type { Language, RawTrace, TestReport, TestSpec, TraceEvent } from "../shared/schema/execution.ts";
import { WRITING } from "./language.ts";
import { describeTest } from "./python-text.ts";

export interface RenderOptions {
  /** Characters the rendering may take. */
  readonly budget: number;
}

export interface RenderContext {
  readonly code: string;
  readonly language: Language;
  /** How the language starts a line comment: annotations on code lines are comments. */
  readonly comment: "#" | "//";
  readonly sourceLines: readonly string[];
  readonly entryPoint: string | undefined;
  readonly test: TestSpec | undefined;
  readonly report: TestReport;
  readonly trace: RawTrace | undefined;
  readonly events: readonly TraceEvent[];
  /** Index of the first event after the raw trace's own gap (the unrecorded middle of a long run). */
  readonly gapIndex: number | undefined;
  /** Longest value shown; lowered when the budget is tight. */
  valueLimit: number;
}

export function makeContext(code: string, test: TestSpec | undefined, report: TestReport, entryPoint?: string, language: Language = "python"): RenderContext {
  const trace = report.trace;
  const events = trace?.events ?? [];
  let gapIndex: number | undefined;
  if (trace?.gap !== null && trace?.gap !== undefined) {
    const after = trace.gap.after_step;
    const index = events.findIndex((event) => event.step === null || event.step > after);
    gapIndex = index >= 0 ? index : undefined;
  }
  return {
    code,
    language,
    comment: WRITING[language].comment,
    sourceLines: code.split("\n"),
    entryPoint,
    test,
    report,
    trace,
    events,
    gapIndex,
    valueLimit: 80,
  };
}

/** A value cut to `limit` characters at a token boundary, the cut marked with "…". */
export function shorten(value: string, limit: number): string {
  if (value.length <= limit) return value;
  const room = Math.max(1, limit - 1);
  let cut = room;
  for (let index = room; index > room / 2; index--) {
    const character = value[index];
    if (character === "," || character === " " || character === ")" || character === "]" || character === "}") {
      cut = index;
      break;
    }
  }
  return `${value.slice(0, cut)}…`;
}

const STATUS_WORDS: Record<string, string> = {
  wrong_answer: "wrong answer",
  runtime_error: "runtime error",
  timeout: "timeout",
  memory_limit: "memory limit exceeded",
  output_limit: "output limit exceeded",
  syntax_error: "syntax error",
  passed: "passed",
};

/** The test feedback every rendering starts with: input, expected, actual, error with its line. */
export function feedbackLines(context: RenderContext): string[] {
  const { report } = context;
  const limit = context.valueLimit * 4;
  const description = describeTest(context.entryPoint, context.test, context.language);
  const lines: string[] = [];
  const assertion = report.error?.assertion;
  if (context.test?.kind === "assert") {
    // Python's failing line is the `assert` statement's expression; JavaScript's is the helper call itself.
    if (assertion !== undefined) lines.push(`Test: ${context.language === "python" ? "assert " : ""}${shorten(assertion.source, limit)}`);
    else if (description.input.length <= limit) lines.push(`Test: ${description.input.replaceAll("\n", "; ")}`);
    else lines.push(`Test: ${description.input.split("\n").length} lines of test code`);
  } else {
    lines.push(`Test: ${shorten(description.input, limit)}`);
  }
  const expected = report.expected ?? description.expected;
  if (expected !== undefined && expected !== null) lines.push(`Expected: ${shorten(expected, limit)}`);
  if (report.actual !== null && report.status !== "runtime_error") lines.push(`Got: ${shorten(report.actual, limit)}`);
  lines.push(`Status: ${STATUS_WORDS[report.status] ?? report.status}`);
  const error = report.error;
  if (error !== null && assertion === undefined) {
    const where = error.line === null ? "" : ` (line ${error.line})`;
    lines.push(`Error: ${shorten(`${error.type}: ${error.message}`, limit)}${where}`);
  }
  if (report.stdout !== "" && context.test?.kind !== "stdio") {
    lines.push(`Printed: ${shorten(JSON.stringify(report.stdout), Math.min(limit, 200))}`);
  }
  return lines;
}

/** The source text of a 1-based line, without its trailing spaces. */
export function sourceLine(context: RenderContext, line: number): string {
  return (context.sourceLines[line - 1] ?? "").trimEnd();
}

/** `name=value, …` of a call event's arguments. */
export function argumentList(event: TraceEvent, context: RenderContext): string {
  return Object.entries(event.locals ?? {})
    .map(([name, value]) => `${name}=${shorten(value, context.valueLimit)}`)
    .join(", ");
}
