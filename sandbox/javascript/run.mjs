/*
 * One job: every test in order in a fresh isolate (the untraced pass, which
 * decides the verdicts), then the failing tests again, traced. Everything
 * happens within the run's time budget (`limits.total_ms`): a test that
 * would start after it is spent is reported, not run; each test's deadline
 * is cut to what is left; a traced re-run gets half the test's limit (a
 * test that timed out is re-run once, keeping its head and newest events),
 * so a request costs at most about 1.5× its limits. Replies are bounded by
 * size before they leave (reply.mjs).
 */
import { randomBytes } from "node:crypto";

import * as acorn from "acorn";

import { instrument, InstrumentLimitError, ProgramSyntaxError, toScript } from "./instrument.mjs";
import { boundEvents, boundResult, ReplyBudget } from "./reply.mjs";
import { Budget, describeHostError, ExpectedEvaluator, hostFailure, Session, takeSession } from "./session.mjs";
import { canonicalEqual, canonicalFromJson, DEFAULT_ABSOLUTE_TOLERANCE, DEFAULT_RELATIVE_TOLERANCE, normalizeOutput, reprJson } from "./values.mjs";

/** Virtual-timer tasks run one per host call before switching to batches. */
const SINGLE_STEPS = 64;
const DEFAULT_TOTAL_MS = 60_000;
/** The instrumenter's own time limit (also cut to the run's budget) and output bound (a multiple of the program's size). */
const INSTRUMENT_LIMIT_MS = 2_000;
const INSTRUMENT_GROWTH = 16;
const INSTRUMENT_MIN_CHARS = 1 << 20;
const AUX_CALL_MS = 1_000;

function traceCapacities(trace) {
  const tail = Math.max(1, Math.min(1000, Math.floor(trace.max_events / 4)));
  return { head: Math.max(1, trace.max_events - tail), tail };
}

function assertDeclaresAssert(code) {
  try {
    const ast = acorn.parse(code, { ecmaVersion: "latest", sourceType: "script", allowReturnOutsideFunction: true });
    return ast.body.some(
      (node) =>
        (node.type === "VariableDeclaration" && node.declarations.some((item) => item.id.type === "Identifier" && item.id.name === "assert")) ||
        ((node.type === "FunctionDeclaration" || node.type === "ClassDeclaration") && node.id?.name === "assert"),
    );
  } catch {
    return false;
  }
}

function elapsed(started) {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

function baseResult(test, index) {
  return {
    index,
    kind: test.kind,
    status: "runtime_error",
    expected: null,
    actual: null,
    stdout: "",
    stderr: "",
    output_truncated: false,
    error: null,
    steps: null,
    duration_ms: null,
  };
}

export class Run {
  constructor(job, send) {
    this.job = job;
    this.send = send;
    this.prefix = `__tf${randomBytes(6).toString("hex")}_`;
    this.limits = job.limits;
    this.trace = job.trace;
    this.entryPoint = job.entry_point ?? null;
    this.budget = new Budget(job.limits.total_ms ?? DEFAULT_TOTAL_MS);
    this.reply = new ReplyBudget();
    // Untraced sessions have no recorder, so they can come from the warm spare.
    this.sessionOptions = {
      memoryMb: Math.max(8, job.limits.memory_mb),
      reprLimit: job.trace.repr_limit,
      outputBytes: job.limits.output_bytes,
      tracerName: null,
      sites: null,
    };
    this.expectedIsolate = new ExpectedEvaluator(this.sessionOptions, this.budget);
    this.plainCode = undefined;
    this.instrumentedCode = undefined;
    this.tracedOptions = undefined;
    /** Why this run is not traced, when the instrumenter gave up. */
    this.traceOff = undefined;
    /** Sessions disposed after the report is sent (disposing takes ~1 ms). */
    this.finished = [];
  }

  prepareSources() {
    try {
      this.plainCode = toScript(this.job.code);
    } catch (error) {
      if (!(error instanceof ProgramSyntaxError)) throw error;
      // acorn and V8 disagree rarely; V8's message is the familiar one when it also fails.
      this.plainCode = this.job.code;
    }
  }

  /** The instrumented program, or null (it does not parse, or instrumenting it passed its limits: then `traceOff` says so). */
  instrumented() {
    if (this.instrumentedCode !== undefined) return this.instrumentedCode;
    const deadline = performance.now() + Math.max(0, Math.min(INSTRUMENT_LIMIT_MS, this.budget.left()));
    const maxChars = Math.max(INSTRUMENT_MIN_CHARS, INSTRUMENT_GROWTH * this.plainCode.length);
    try {
      const result = instrument(this.plainCode, this.prefix, { deadline, maxChars });
      this.instrumentedCode = result.code;
      this.tracedOptions = { ...this.sessionOptions, tracerName: `${this.prefix}T`, sites: result.table };
    } catch (error) {
      this.instrumentedCode = null;
      if (error instanceof InstrumentLimitError) this.traceOff = `tracing is off for this run: ${error.message}`;
      else if (error instanceof RangeError) this.traceOff = "tracing is off for this run: the program is nested too deeply to instrument";
    }
    return this.instrumentedCode;
  }

  newSession(traced) {
    const session = traced ? new Session(this.tracedOptions) : takeSession(this.sessionOptions);
    session.budget = this.budget;
    session.compile(traced ? this.instrumentedCode : this.plainCode);
    return session;
  }

  /** Loads the program's top level into a call/assert session (once), within the test's deadline. */
  loadProgram(session, deadline) {
    if (session.loaded) return;
    if (session.context === undefined) session.newContext();
    session.loaded = true;
    if (session.programError !== undefined) return;
    try {
      session.programScript.runSync(session.context, { timeout: session.timeout(deadline - performance.now()) });
    } catch (error) {
      const failure = hostFailure(error);
      if (failure === "memory") throw error;
      session.programError = failure === "timeout" ? { kind: "timeout" } : { kind: "error", error: describeHostError(error) };
    }
  }

  /** Runs one test in `session` until `deadline`; returns the raw outcome from runtime.js, with the test's whole output. */
  runTest(session, test, { deadline, traceMode = null, traceChars = 0, expected }) {
    const started = performance.now();
    const stdio = test.kind === "stdio";
    if (stdio) {
      if (session.contextFresh !== true) session.newContext();
    } else {
      this.loadProgram(session, deadline);
    }
    session.contextFresh = false;
    const begin = { seed: 1, testLines: test.kind === "assert" ? 1 : 0, stdin: stdio ? (test.stdin ?? "") : "", trace: traceMode };
    session.call("beginTest", [JSON.stringify(begin)], AUX_CALL_MS);
    const early = stdio ? this.runStdioProgram(session, deadline, traceMode) : this.runCallOrAssert(session, test, deadline, expected);
    if (early !== undefined) return { ...early, started };
    this.runTimers(session, stdio, deadline);
    if (traceMode !== null) session.call("settleOpen", [], AUX_CALL_MS);
    const raw = this.readResult(session, test.kind, traceChars, false);
    raw.started = started;
    raw.expected = expected;
    return raw;
  }

  /** The runtime's report of the test, with its whole stdout and stderr (judged on all of it, shown in part). */
  readResult(session, kind, traceChars, grace) {
    const raw = JSON.parse(session.call("finish", [kind, traceChars], AUX_CALL_MS, grace));
    raw.stdout = raw.stdout_chars > 0 ? session.call("output", ["stdout"], AUX_CALL_MS, grace) : "";
    raw.stderr = raw.stderr_chars > 0 ? session.call("output", ["stderr"], AUX_CALL_MS, grace) : "";
    return raw;
  }

  runStdioProgram(session, deadline, traceMode) {
    if (session.programError?.kind === "syntax") return { outcome: "syntax", error: session.programError.error };
    try {
      session.programScript.runSync(session.context, { timeout: session.timeout(deadline - performance.now()) });
    } catch (error) {
      if (hostFailure(error) !== "other") throw error;
      const described = describeHostError(error);
      session.call("programFinished", [true, JSON.stringify(described)], AUX_CALL_MS);
      if (traceMode !== null) session.call("moduleThrew", [described.message === "" ? described.type : `${described.type}: ${described.message}`], AUX_CALL_MS);
    }
    return undefined;
  }

  runCallOrAssert(session, test, deadline, expected) {
    const programError = session.programError;
    if (programError !== undefined) {
      if (programError.kind === "syntax") return { outcome: "syntax", error: programError.error };
      if (programError.kind === "timeout") return { outcome: "load-timeout" };
      return { outcome: "error", error: programError.error };
    }
    const remaining = () => deadline - performance.now();
    if (test.kind === "call") {
      if (expected?.error !== undefined) return { outcome: "test-error", error: expected.error };
      let argumentList;
      if (test.input !== undefined) {
        try {
          argumentList = session.compileTest(`(${test.input}\n)`).runSync(session.context, { reference: true, timeout: session.timeout(remaining()) });
        } catch (error) {
          if (hostFailure(error) !== "other") throw error;
          return { outcome: "test-error", error: { ...describeHostError(error), message: `the test's input could not be evaluated: ${describeHostError(error).message}` } };
        }
      }
      if (argumentList !== undefined) session.callWith("callEntry", [this.entryPoint ?? "", "", argumentList.derefInto()], remaining());
      else session.call("callEntry", [this.entryPoint ?? "", JSON.stringify(test.args ?? [])], remaining());
      return undefined;
    }
    const parameter = this.declaresAssert(test.code) ? "_tracefixAssert" : "assert";
    let testFunction;
    try {
      testFunction = session.compileTest(`(function (${parameter}, require) {\n${test.code}\n})`).runSync(session.context, { reference: true, timeout: session.timeout(remaining()) });
    } catch (error) {
      if (hostFailure(error) !== "other") throw error;
      const described = /\[test\.js:(\d+)/.exec(String(error.message));
      return {
        outcome: "test-error",
        error: { type: "SyntaxError", message: `the test code does not compile: ${String(error.message).replace(/\s*\[test\.js:\d+:\d+\]$/, "").slice(0, 2000)}`, line: null, ...(described === null ? {} : { test_line: Number(described[1]) - 1 }) },
      };
    }
    session.call("setTestSource", [test.code], AUX_CALL_MS);
    session.callWith("runTestFunction", [testFunction.derefInto()], remaining());
    return undefined;
  }

  /** Microtasks ran after each call; now the virtual timers: one task per call at first, then growing batches (see stepMany in runtime.js). */
  runTimers(session, stdio, deadline) {
    for (let calls = 0; ; calls++) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error("Script execution timed out.");
      const state = calls < SINGLE_STEPS ? session.call("step", [stdio], left) : session.call("stepMany", [stdio, Math.min(4096, 16 * (calls - SINGLE_STEPS + 1))], left);
      if (state !== "more") return;
    }
  }

  /** Parsed once per test code, not once per pass. */
  declaresAssert(code) {
    this.assertDeclarations ??= new Map();
    if (!this.assertDeclarations.has(code)) this.assertDeclarations.set(code, assertDeclaresAssert(code));
    return this.assertDeclarations.get(code);
  }

  /** A call test's expected value, held here: JSON (canonical and printed here), or an `output` expression evaluated in an isolate without the program. */
  expectedFor(test, deadline) {
    if (test.kind !== "call") return undefined;
    let json;
    if (test.expected !== undefined) json = { value: test.expected };
    else if (test.output === undefined) return undefined;
    else {
      try {
        json = { value: JSON.parse(test.output) };
      } catch {
        return this.expectedIsolate.evaluate(test.output, deadline);
      }
    }
    try {
      return { canonical: canonicalFromJson(json.value), repr: reprJson(json.value, 2000) };
    } catch {
      return { error: { type: "Error", message: "the test's expected value could not be read (nested too deeply)", line: null } };
    }
  }

  /** The report entry of one test from its raw outcome (full output), bounded for the reply. */
  verdict(test, index, raw) {
    const result = this.judge(test, index, raw);
    return boundResult(result, raw.stdout ?? "", raw.stderr ?? "", this.reply);
  }

  judge(test, index, raw) {
    const result = baseResult(test, index);
    result.duration_ms = elapsed(raw.started);
    if (raw.stdout !== undefined) {
      result.stdout = raw.stdout;
      result.stderr = raw.stderr;
      result.output_truncated = raw.truncated;
    }
    if (test.kind === "call" && raw.expected?.repr !== undefined) result.expected = raw.expected.repr;
    switch (raw.outcome) {
      case "syntax":
        result.status = "syntax_error";
        result.error = raw.error;
        return result;
      case "load-timeout":
        result.status = "timeout";
        result.error = { type: "Timeout", message: `the program's top level ran longer than ${this.limits.timeout_ms} ms`, line: null };
        return result;
      case "test-error":
        result.status = "runtime_error";
        result.error = { type: raw.error.type, message: raw.error.message, line: null };
        return result;
      case "output":
        result.status = "output_limit";
        result.error = { type: "OutputLimit", message: `the program wrote more than ${this.limits.output_bytes} bytes`, line: null };
        return result;
      case "exit":
        return this.judgeExit(test, result, raw);
      case "pending":
        result.status = "runtime_error";
        result.error = { type: "PendingPromise", message: "the returned promise never settled (nothing was left to run)", line: null };
        return result;
      case "error":
        return this.judgeError(test, result, raw);
      case "returned":
        return this.judgeReturned(test, result, raw);
      default:
        result.status = "runtime_error";
        result.error = { type: "SandboxViolation", message: "the test ended in a way the sandbox does not know", line: null };
        return result;
    }
  }

  judgeExit(test, result, raw) {
    if (test.kind === "stdio" && (raw.exit_code === "0" || raw.exit_code === "undefined")) return this.judgeStdio(test, result);
    result.status = "runtime_error";
    result.error = {
      type: "ProcessExit",
      message: `the program called process.exit(${String(raw.exit_code).slice(0, 100)}) during the test${test.kind === "stdio" ? "" : " (exiting does not count as passing)"}`,
      line: null,
    };
    return result;
  }

  judgeError(test, result, raw) {
    result.error = raw.error;
    const assertion = raw.error?.assertion;
    if (assertion !== undefined) {
      result.status = "wrong_answer";
      result.expected = assertion.right;
      result.actual = assertion.left;
    } else {
      result.status = test.kind === "assert" && raw.error?.type === "AssertionError" ? "wrong_answer" : "runtime_error";
    }
    return result;
  }

  judgeReturned(test, result, raw) {
    if (test.kind === "call") {
      result.actual = raw.actual_repr;
      if (raw.expected === undefined) {
        result.status = "passed";
        return result;
      }
      const same = canonicalEqual(raw.expected.canonical, raw.actual, test.rel_tol ?? DEFAULT_RELATIVE_TOLERANCE, test.abs_tol ?? DEFAULT_ABSOLUTE_TOLERANCE);
      result.status = same ? "passed" : "wrong_answer";
      return result;
    }
    if (test.kind === "stdio") return this.judgeStdio(test, result);
    result.status = "passed";
    return result;
  }

  judgeStdio(test, result) {
    if (test.stdout === undefined) {
      result.status = "passed";
      return result;
    }
    result.expected = test.stdout;
    result.actual = result.stdout;
    result.status = normalizeOutput(result.stdout) === normalizeOutput(test.stdout) ? "passed" : "wrong_answer";
    return result;
  }

  failureResult(test, index, kind, started, { limitMs, expected }) {
    const result = baseResult(test, index);
    result.duration_ms = elapsed(started);
    if (expected?.repr !== undefined) result.expected = expected.repr;
    if (kind === "timeout") {
      const cut = limitMs < this.limits.timeout_ms;
      result.status = "timeout";
      result.error = {
        type: "Timeout",
        message: cut
          ? `the test ran longer than ${Math.max(0, Math.round(limitMs))} ms, all that was left of the run's time budget (limits.total_ms = ${this.budget.totalMs} ms)`
          : `the test ran longer than ${this.limits.timeout_ms} ms`,
        line: null,
      };
    } else if (kind === "memory") {
      result.status = "memory_limit";
      result.error = { type: "MemoryError", message: `the program ran out of memory (limit ${this.limits.memory_mb} MB)`, line: null };
    } else {
      result.status = "runtime_error";
      result.error = { type: "SandboxError", message: "the isolate failed while running this test", line: null };
    }
    return boundResult(result, "", "", this.reply);
  }

  budgetExhausted(test, index) {
    const result = baseResult(test, index);
    result.status = "timeout";
    result.error = { type: "BudgetExhausted", message: `not run: the run's time budget (limits.total_ms = ${this.budget.totalMs} ms) was spent before this test could start`, line: null };
    return result;
  }

  /** One test of the untraced pass: its verdict (the isolate is replaced after a timeout or a memory failure). */
  untracedTest(session, test, index) {
    const limitMs = Math.min(this.limits.timeout_ms, this.budget.left());
    const started = performance.now();
    const deadline = started + limitMs;
    let expected;
    try {
      expected = this.expectedFor(test, deadline);
      return this.verdict(test, index, this.runTest(session, test, { deadline, expected }));
    } catch (error) {
      const failure = hostFailure(error);
      if (failure === "other") process.stderr.write(`an isolate failed during a test: ${error?.stack ?? error}\n`);
      // A test that timed out or ran the isolate out of memory leaves it unusable: the next test gets a fresh one.
      session.dispose();
      return this.failureResult(test, index, failure, started, { limitMs, expected });
    }
  }

  /** The untraced pass: every test, in order, the verdicts. */
  untracedPass() {
    const results = [];
    let session;
    for (const [index, test] of this.job.tests.entries()) {
      let result;
      if (this.budget.left() <= 0) result = this.budgetExhausted(test, index);
      else {
        if (session === undefined || session.dead) session = this.newSession(false);
        result = this.untracedTest(session, test, index);
      }
      results.push(result);
      this.send({ t: "result", index, result });
    }
    if (session !== undefined) this.finished.push(session);
    return results;
  }

  // -------------------------------------------------------------------------
  // Traced re-runs.

  /** One traced run of a test in a fresh isolate; a run cut by its deadline is still read (what the recorder kept). */
  tracedAttempt(test, mode, deadline, traceChars) {
    // Disposed at once: a traced isolate may hold much memory, and failing tests are fewer than tests.
    const session = this.newSession(true);
    try {
      return { raw: this.runTest(session, test, { deadline, traceMode: mode, traceChars }), failure: undefined };
    } catch (error) {
      const failure = hostFailure(error);
      if (failure !== "timeout") return { raw: undefined, failure };
      try {
        session.call("settleOpen", [], AUX_CALL_MS, true);
        return { raw: this.readResult(session, test.kind, traceChars, true), failure };
      } catch {
        return { raw: undefined, failure };
      }
    } finally {
      session.dispose();
    }
  }

  /**
   * The trace of one failing test, within half its limit (and the budget):
   * a test that timed out gets one ring replay (its head and its newest
   * events before the deadline); any other a head run and, when it was
   * longer than the head, a replay that records its tail.
   */
  tracedRun(test, untraced, share) {
    const { head, tail } = traceCapacities(this.trace);
    const started = performance.now();
    const limitMs = Math.min(Math.ceil(this.limits.timeout_ms / 2), this.budget.left());
    if (limitMs <= 0) return undefined;
    const deadline = started + limitMs;
    const attempt = (mode) => this.tracedAttempt(test, { head, tail, from: 0, ...mode }, deadline, share);
    if (untraced.status === "timeout") return this.ringTrace(attempt({ mode: "ring" }), { started, head, tail, share });
    const first = attempt({ mode: "head" });
    const trace = first.raw?.trace;
    if (trace === undefined) return undefined;
    const totals = { total_events: trace.event_count, total_steps: trace.line_count };
    if (first.failure === "timeout") {
      const reason = `timeout: the traced re-run did not finish within ${limitMs} ms (tracing slows a program down); only its head was recorded`;
      return this.finishTrace({ events: trace.events, gapAt: trace.events.length, gapAtEnd: true, unknownGap: true, omitted: trace.omitted, reasons: [reason] }, { total_events: null, total_steps: null, steps_at_least: trace.line_count }, started, share);
    }
    if (trace.event_count <= head) return this.finishTrace({ events: trace.events, gapAt: trace.cut_at, omitted: trace.omitted, reasons: [] }, totals, started, share);
    const replay = attempt({ mode: "from", from: Math.max(head + 1, trace.event_count - tail + 1) });
    const headEvents = trace.events.filter((event) => event.step <= head);
    const exact = replay.failure === undefined && replay.raw?.trace !== undefined && replay.raw.trace.event_count === trace.event_count;
    if (!exact) {
      const reason = replay.failure === "timeout" ? "tail unavailable: the re-run ran out of time" : "tail unavailable: the re-run took another path";
      return this.finishTrace({ events: headEvents, gapAt: headEvents.length, gapAtEnd: true, unknownGap: true, omitted: trace.omitted, reasons: [reason] }, totals, started, share);
    }
    const parts = { events: [...headEvents, ...replay.raw.trace.events], gapAt: headEvents.length, omitted: trace.omitted + replay.raw.trace.omitted, reasons: [] };
    return this.finishTrace(parts, totals, started, share);
  }

  /** A ring replay's trace: cut at the deadline (totals unknown) or, should it finish this time, complete around its gap. */
  ringTrace(ring, { started, head, share }) {
    const trace = ring.raw?.trace;
    if (trace === undefined) return undefined;
    const firstTail = trace.events.findIndex((event) => event.step > head);
    if (ring.failure !== "timeout") {
      // It finished this time: a gap only where events were left out.
      const complete = trace.cut_at < 0 && trace.events.length === trace.event_count;
      const gapAt = complete ? -1 : trace.cut_at >= 0 ? trace.cut_at : firstTail;
      return this.finishTrace({ events: trace.events, gapAt, omitted: trace.omitted, reasons: [] }, { total_events: trace.event_count, total_steps: trace.line_count }, started, share);
    }
    const gapAt = trace.cut_at >= 0 ? trace.cut_at : firstTail;
    const parts = { events: trace.events, gapAt, omitted: trace.omitted, reasons: ["timeout: the last events before the deadline"] };
    return this.finishTrace(parts, { total_events: null, total_steps: null, steps_at_least: trace.line_count }, started, share);
  }

  /** The raw trace from its events and one gap, cut to `share` bytes; `omitted` counts every event a size bound left out. */
  finishTrace(parts, totals, started, share) {
    const bounded = boundEvents(parts.events, parts.gapAt ?? -1, share);
    const omitted = (parts.omitted ?? 0) + bounded.omitted;
    const reasons = [...parts.reasons];
    if (omitted > 0) reasons.push(`size: ${omitted} events left out to keep the reply within its bound`);
    const events = bounded.events;
    const at = bounded.gapAt;
    let gap = null;
    if (at >= 0 && (at < events.length || parts.gapAtEnd === true)) {
      const after = events[at - 1]?.step ?? 0;
      const next = events[at];
      const count = parts.unknownGap === true && bounded.omitted === 0 ? null : next !== undefined && next.step !== null ? next.step - after - 1 : totals.total_events !== null ? totals.total_events - after : null;
      gap = { after_step: after, events: count, ...(reasons.length > 0 ? { reason: reasons.join("; ") } : {}) };
    }
    const trace = {
      events,
      backend: "instrumented",
      truncated: gap !== null || omitted > 0 || totals.total_events === null,
      total_events: totals.total_events,
      total_steps: totals.total_steps,
      ...(totals.steps_at_least === undefined ? {} : { steps_at_least: totals.steps_at_least }),
      gap,
      duration_ms: elapsed(started),
    };
    return { trace, omitted, bytes: bounded.bytes };
  }

  /** A trace that says why there is none (the instrumenter passed its limits). */
  offTrace() {
    return {
      trace: { events: [], backend: "instrumented", truncated: true, total_events: null, total_steps: null, gap: { after_step: 0, events: null, reason: this.traceOff }, duration_ms: 0 },
      omitted: 0,
      bytes: 0,
    };
  }

  tracedPass(results) {
    const mode = this.trace.mode;
    if (mode === "none") return;
    const selected = results.filter((result) => mode === "all" || (result.status !== "passed" && result.status !== "syntax_error")).slice(0, this.trace.max_tests);
    if (selected.length === 0 || this.budget.left() <= 0) return;
    const code = this.instrumented();
    for (const result of selected) {
      // Traced re-runs only within the budget; past it, the verdicts stand untraced.
      if (this.budget.left() <= 0) return;
      if (code === null && this.traceOff === undefined) return;
      const traced = code === null ? this.offTrace() : this.tracedRun(this.job.tests[result.index], result, this.reply.traceShare());
      if (traced === undefined) continue;
      this.reply.spend(traced.bytes ?? 0);
      result.trace = traced.trace;
      if (traced.omitted > 0) result.omitted = { ...result.omitted, trace_events: traced.omitted };
      if (traced.trace.total_steps !== null) result.steps = traced.trace.total_steps;
      else if (traced.trace.steps_at_least !== undefined) result.steps_at_least = traced.trace.steps_at_least;
    }
  }

  execute() {
    const started = performance.now();
    this.prepareSources();
    const results = this.untracedPass();
    this.tracedPass(results);
    const passed = results.filter((result) => result.status === "passed").length;
    return {
      status: passed === results.length ? "passed" : "failed",
      passed,
      total: results.length,
      tests: results,
      duration_ms: elapsed(started),
    };
  }

  dispose() {
    for (const session of this.finished) session.dispose();
    this.expectedIsolate.dispose();
  }
}

