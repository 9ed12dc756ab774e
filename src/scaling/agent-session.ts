/**
 * One agent of strategy "agent": its tools, run in the sandbox with the
 * request's limits against the public tests only (hidden tests are not
 * reachable: a test is named by its index among the public ones), its
 * budget of tool calls, and a `tool.called` / `tool.completed` event for
 * every call. A tool never throws at the model: what went wrong is the
 * text it reads back.
 */
import { z } from "zod";

import { compareEta, etaStanding, type EtaStanding } from "../judge/index.ts";
import type { AgentTool } from "../policy/index.ts";
import type { RunEventPayload } from "../shared/schema/events.ts";
import { TRACE_FORMATS, type ExecutionReport, type RawTrace, type TestReport, type TraceFormat } from "../shared/schema/execution.ts";
import { redactTestReport, redactText, render } from "../trace/index.ts";
import type { EventChannel } from "./channel.ts";
import type { RunContext } from "./run-context.ts";

/** Strings in a tool event (arguments, results) are cut past this many characters. */
const EVENT_TEXT_LIMIT = 16_000;

/** A call the tool cannot make as asked: said to the model as it is. */
class ToolInputError extends Error {
  override readonly name = "ToolInputError";
}

type ToolStatus = "ok" | "error" | "timeout" | "refused";

function cut(text: string): string {
  return text.length <= EVENT_TEXT_LIMIT ? text : `${text.slice(0, EVENT_TEXT_LIMIT)}…[${text.length - EVENT_TEXT_LIMIT} more characters]`;
}

function boundedArguments(args: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).map(([name, value]) => [name, typeof value === "string" ? cut(value) : value]));
}

function stringArgument(args: Readonly<Record<string, unknown>>, name: string): string {
  const value = args[name];
  if (typeof value !== "string" || value.trim() === "") throw new ToolInputError(`${name} must be a non-empty string`);
  return value;
}

const CODE = z.string().describe("the complete program");
const TEST = z.int().min(0).describe("a public test's index, from 0");

/** "3-9" or "7": the lines a trace is cut to. */
function lineRange(text: unknown): { from: number; to: number } | undefined {
  if (text === undefined || text === null || text === "") return undefined;
  const match = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(String(text));
  if (match === null) throw new ToolInputError(`lines must look like "3-9" or "7", not ${JSON.stringify(text)}`);
  const from = Number(match[1]);
  return { from, to: match[2] === undefined ? from : Number(match[2]) };
}

function ordinal(position: number): string {
  const tens = position % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : (["th", "st", "nd", "rd"][position % 10] ?? "th");
  return `${position}${suffix}`;
}

/** A probe's values as the model reads them: the first ones, how many were folded, the last ones. */
function probeText(probe: NonNullable<RawTrace["probe"]>, test: number): string {
  if (probe.error !== undefined) throw new ToolInputError(`the expression does not compile: ${probe.error}`);
  if (probe.count === 0) return `line ${probe.line} did not run in test ${test}.`;
  const entry = (value: { value?: string | undefined; error?: string | undefined }, position: number): string =>
    `  ${ordinal(position)}: ${value.value ?? `raised ${value.error ?? "?"}`}`;
  const lines = [`\`${probe.expression}\` each time line ${probe.line} was about to run in test ${test} (${probe.count} time${probe.count === 1 ? "" : "s"}):`];
  probe.first.forEach((value, index) => lines.push(entry(value, index + 1)));
  const folded = probe.count - probe.first.length - probe.last.length;
  if (folded > 0) lines.push(`  … ${folded} more …`);
  probe.last.forEach((value, index) => lines.push(entry(value, probe.count - probe.last.length + index + 1)));
  return lines.join("\n");
}

function outcomeLine(report: ExecutionReport): string {
  if (report.status === "error") return `The program could not be run: ${report.error?.message ?? "sandbox error"}`;
  const tests = report.tests.map((test) => `test ${test.index}: ${test.status}`).join(", ");
  return `Passed ${report.passed} of ${report.total} public tests (${tests}).`;
}

export interface TestedProgram {
  readonly code: string;
  readonly report: ExecutionReport;
  readonly standing: EtaStanding;
}

export class AgentSession {
  /** What the agent submitted, when it did. */
  submitted: string | undefined;
  /** The best program it ran the tests of, by the ETA order. */
  best: TestedProgram | undefined;
  /** Tool calls made, submit and refused ones included. */
  calls = 0;
  private used = 0;
  readonly budget: number;

  constructor(
    private readonly context: RunContext,
    readonly index: number,
    private readonly channel: EventChannel<RunEventPayload>,
  ) {
    this.budget = context.request.rounds * context.request.agent.tool_calls_per_round;
  }

  tools(): AgentTool[] {
    const formats = TRACE_FORMATS.filter((format) => format !== "none") as [TraceFormat, ...TraceFormat[]];
    return [
      this.tool("run_tests", "Run the program on the public tests: which pass, and the failing ones with their trace.", z.object({ code: CODE }), (args, signal) => this.runTests(args, signal)),
      this.tool(
        "trace_test",
        "One public test's line-level trace: what ran, in order, with the values it made.",
        z.object({
          code: CODE,
          test: TEST,
          format: z.enum(formats).optional().describe("how the trace is written (default: the run's format)"),
          lines: z.string().optional().describe('only these lines, e.g. "4-9"'),
        }),
        (args, signal) => this.traceTest(args, signal),
      ),
      this.tool(
        "inspect",
        "The value of a Python expression each time a line is about to run in one public test (first, last, the middle folded).",
        z.object({ code: CODE, test: TEST, line: z.int().min(1).describe("a line of the program, from 1"), expression: z.string().describe("evaluated in that line's frame, e.g. \"(i, total)\"") }),
        (args, signal) => this.inspect(args, signal),
      ),
      { ...this.tool("submit", "Your final program: it ends your work.", z.object({ code: CODE }), async (args) => this.submit(args)), ends: true },
    ];
  }

  private tool(name: string, description: string, schema: z.ZodObject, work: (args: Readonly<Record<string, unknown>>, signal: AbortSignal) => Promise<string>): AgentTool {
    return { name, description, schema, run: (args) => this.call(name, args, work) };
  }

  /** One call: its events, the budget, the per-tool timeout, and any failure told to the model. */
  private async call(name: string, args: Readonly<Record<string, unknown>>, work: (args: Readonly<Record<string, unknown>>, signal: AbortSignal) => Promise<string>): Promise<string> {
    const call = ++this.calls;
    this.channel.push({ type: "tool.called", agent: this.index, call, tool: name, arguments: boundedArguments(args) });
    const started = performance.now();
    const { status, result } = await this.answer(name, args, work);
    this.channel.push({ type: "tool.completed", agent: this.index, call, tool: name, status, duration_ms: Math.round((performance.now() - started) * 100) / 100, result: cut(result) });
    return result;
  }

  private async answer(name: string, args: Readonly<Record<string, unknown>>, work: (args: Readonly<Record<string, unknown>>, signal: AbortSignal) => Promise<string>): Promise<{ status: ToolStatus; result: string }> {
    if (name !== "submit" && this.used >= this.budget) {
      return { status: "refused", result: `The tool-call budget (${this.budget} calls) is spent: call submit with your program now.` };
    }
    if (name !== "submit") this.used += 1;
    const timeoutMs = this.context.request.agent.tool_timeout_ms;
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      return { status: "ok", result: await work(args, AbortSignal.any([this.context.signal, timeout])) };
    } catch (error) {
      if (timeout.aborted && !this.context.signal.aborted) return { status: "timeout", result: `error: ${name} took longer than ${timeoutMs} ms and was stopped.` };
      return { status: "error", result: `error: ${redactText(error instanceof Error ? error.message : String(error))}` };
    }
  }

  private note(code: string, report: ExecutionReport): void {
    const standing = etaStanding(report);
    if (report.status !== "error" && (this.best === undefined || compareEta(standing, this.best.standing) < 0)) this.best = { code, report, standing };
  }

  private testOf(args: Readonly<Record<string, unknown>>): number {
    const test = args["test"];
    const count = this.context.tests.length;
    if (typeof test !== "number" || !Number.isInteger(test) || test < 0 || test >= count) {
      throw new ToolInputError(`test must be the index of a public test, 0 to ${count - 1}`);
    }
    return test;
  }

  /** One public test, traced with `capture`, its report masked. */
  private async traced(code: string, test: number, capture: Parameters<RunContext["job"]>[4], signal: AbortSignal): Promise<TestReport> {
    const spec = this.context.tests[test];
    if (spec === undefined) throw new ToolInputError(`no public test ${test}`);
    this.context.countExecution();
    const job = this.context.job(code, [spec], true, this.context.request.limits, { mode: "all", max_tests: 1, ...capture });
    const report = await this.context.deps.executor.execute(job, { signal });
    const tested = report.tests[0];
    if (report.status === "error" || tested === undefined) throw new ToolInputError(`the program could not be run: ${report.error?.message ?? "sandbox error"}`);
    return redactTestReport(tested);
  }

  private async runTests(args: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<string> {
    const code = stringArgument(args, "code");
    const report = await this.context.executePublic(code, signal);
    this.note(code, report);
    if (report.status === "passed") return `${outcomeLine(report)} Call submit with this program.`;
    return `${outcomeLine(report)}\n\n${this.context.feedbackFor(code, report)}`;
  }

  private async traceTest(args: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<string> {
    const code = stringArgument(args, "code");
    const test = this.testOf(args);
    const range = lineRange(args["lines"]);
    const format = TRACE_FORMATS.includes(args["format"] as TraceFormat) ? (args["format"] as TraceFormat) : this.context.request.trace.format;
    const tested = await this.traced(code, test, {}, signal);
    const trace = tested.trace;
    const shown = range === undefined || trace === undefined ? tested : { ...tested, trace: { ...trace, events: trace.events.filter((event) => event.line >= range.from && event.line <= range.to) } };
    const { problem, trace: settings } = this.context.request;
    const text = render(format, code, this.context.tests[test], shown, { budget: settings.budget, entryPoint: problem.entry_point, language: problem.language });
    return `test ${test}: ${tested.status}${range === undefined ? "" : ` (lines ${range.from}-${range.to} only)`}\n${redactText(text)}`;
  }

  private async inspect(args: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<string> {
    if (this.context.request.problem.language !== "python") throw new ToolInputError("inspect reads Python programs only: use trace_test to see the values lines make");
    const code = stringArgument(args, "code");
    const test = this.testOf(args);
    const line = args["line"];
    if (typeof line !== "number" || !Number.isInteger(line) || line < 1) throw new ToolInputError("line must be a line number of the program, from 1");
    const expression = stringArgument(args, "expression");
    if (expression.length > 500) throw new ToolInputError("expression must be at most 500 characters");
    const repr = Math.max(this.context.request.trace.repr_limit, 200);
    const tested = await this.traced(code, test, { probe: { line, expression }, max_events: 50_000, repr_limit: repr }, signal);
    const probe = tested.trace?.probe;
    if (probe === undefined) throw new ToolInputError(`test ${test} ended before it could be traced (${tested.status})`);
    const text = `${probeText(probe, test)}\ntest ${test}: ${tested.status}`;
    const budget = this.context.request.trace.budget;
    return text.length <= budget ? text : `${text.slice(0, budget)}…`;
  }

  private submit(args: Readonly<Record<string, unknown>>): string {
    this.submitted = stringArgument(args, "code");
    return "Submitted.";
  }
}
