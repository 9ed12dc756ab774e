/*
 * One JavaScript sandbox worker: a child process of the server (forked with
 * --no-node-snapshot, as isolated-vm requires on Node >= 20) that runs jobs
 * from its parent over IPC, one at a time, each in a fresh isolate.
 *
 * Messages in:  {id, op: "run", job} | {id, op: "syntax", code}
 * Messages out: {t: "ready", info} once; {id, t: "result", index, result}
 *               after each test of a run's untraced pass (so a crash is
 *               attributed to the test that was running); {id, t: "done",
 *               report} | {id, t: "syntax", syntax} | {id, t: "failed", error}.
 *
 * Nothing from this process is handed to an isolate: arguments and results
 * cross as strings, functions as isolated-vm references that stay here. An
 * isolate that dies (memory limit) is replaced for the remaining tests; one
 * that takes this process down is the pool's to report (src/sandbox/javascript/pool.ts).
 * The verdict is decided here, on canonical values, never in the isolate.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import * as acorn from "acorn";
import ivm from "isolated-vm";

import { instrument, ProgramSyntaxError, toScript } from "./instrument.mjs";

const RUNTIME_SOURCE = readFileSync(new URL("./runtime.js", import.meta.url), "utf8");
const DRIVER_FUNCTIONS = ["configure", "beginTest", "callEntry", "runTestFunction", "programFinished", "step", "stepMany", "finish", "expectedValue", "expectedFromJson", "moduleThrew", "setTestSource", "settleOpen"];
const DEFAULT_RELATIVE_TOLERANCE = 1e-6;
const DEFAULT_ABSOLUTE_TOLERANCE = 1e-9;
const VALUE_LIMIT = 2000;
/** Worker-level failures in a row after which the worker exits (the pool starts a new one). */
const MAX_RUNTIME_FAILURES = 3;
/** Virtual-timer tasks run one per host call before switching to batches. */
const SINGLE_STEPS = 64;

const isolatedVmVersion = (() => {
  try {
    return createRequire(import.meta.url)("isolated-vm/package.json").version;
  } catch {
    return "unknown";
  }
})();

// ---------------------------------------------------------------------------
// Comparison of canonical values (runtime.js writes them; tags as in the Python harness).
function asNumber(value) {
  if (typeof value === "number") return value;
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    if ("$f" in value) return { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, "-inf": Number.NEGATIVE_INFINITY }[value.$f];
    if ("$big" in value) return Number(value.$big);
  }
  return undefined;
}

function isNothing(value) {
  return value === null || (value !== null && typeof value === "object" && value.$undefined === true);
}

export function canonicalEqual(expected, actual, relative = DEFAULT_RELATIVE_TOLERANCE, absolute = DEFAULT_ABSOLUTE_TOLERANCE) {
  // JSON has no undefined: a test expecting null accepts undefined (and the reverse).
  if (isNothing(expected) || isNothing(actual)) return isNothing(expected) && isNothing(actual);
  const expectedNumber = asNumber(expected);
  const actualNumber = asNumber(actual);
  if (expectedNumber !== undefined || actualNumber !== undefined) {
    if (expectedNumber === undefined || actualNumber === undefined) return false;
    if (typeof expected === "object" && typeof actual === "object" && "$big" in expected && "$big" in actual) return expected.$big === actual.$big;
    if (Number.isNaN(expectedNumber) || Number.isNaN(actualNumber)) return Number.isNaN(expectedNumber) && Number.isNaN(actualNumber);
    if (!Number.isFinite(expectedNumber) || !Number.isFinite(actualNumber)) return expectedNumber === actualNumber;
    if (expectedNumber === actualNumber) return true;
    return Math.abs(expectedNumber - actualNumber) <= Math.max(relative * Math.max(Math.abs(expectedNumber), Math.abs(actualNumber)), absolute);
  }
  if (typeof expected !== typeof actual) return false;
  if (typeof expected === "string" || typeof expected === "boolean") return expected === actual;
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual) || expected.length !== actual.length) return false;
    return expected.every((item, index) => canonicalEqual(item, actual[index], relative, absolute));
  }
  if (expected === null || actual === null || typeof expected !== "object") return false;
  if ("$dict" in expected && "$dict" in actual) {
    const key = (item) => JSON.stringify(item);
    const actualPairs = new Map(actual.$dict.map(([name, value]) => [key(name), value]));
    if (actualPairs.size !== new Set(expected.$dict.map(([name]) => key(name))).size) return false;
    return expected.$dict.every(([name, value]) => actualPairs.has(key(name)) && canonicalEqual(value, actualPairs.get(key(name)), relative, absolute));
  }
  if ("$set" in expected && "$set" in actual) {
    const sorted = (items) => items.map((item) => JSON.stringify(item)).sort();
    const left = sorted(expected.$set);
    const right = sorted(actual.$set);
    return left.length === right.length && left.every((item, index) => item === right[index]);
  }
  if ("$obj" in expected && "$obj" in actual) return expected.$obj === actual.$obj && canonicalEqual(expected.attrs, actual.attrs, relative, absolute);
  if ("$date" in expected && "$date" in actual) return expected.$date === actual.$date;
  return false;
}

/** A JSON value from a test, as runtime.js would encode it. */
export function canonicalFromJson(value) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(canonicalFromJson);
  return { $dict: Object.entries(value).map(([key, item]) => [key, canonicalFromJson(item)]) };
}

export function normalizeOutput(text) {
  const lines = text.replaceAll("\r\n", "\n").split("\n").map((line) => line.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.join("\n");
}

/** isolated-vm wants whole milliseconds, at least 1. */
function milliseconds(value) {
  return Math.max(1, Math.ceil(value));
}

// ---------------------------------------------------------------------------
// Errors isolated-vm raises here for what happened in the isolate.
function hostFailure(error) {
  const message = String(error?.message ?? error);
  if (/timed out/i.test(message)) return "timeout";
  if (/memory limit/i.test(message) || /disposed/i.test(message)) return "memory";
  return "other";
}

/** An error thrown by a program's top level, as isolated-vm copies it out. */
function describeHostError(error) {
  const stack = typeof error?.stack === "string" ? error.stack : "";
  const message = typeof error?.message === "string" ? error.message : String(error);
  // The stack's first line keeps a custom class's name ("ParseError: …") where the copy became Error.
  const head = /^([A-Za-z_$][\w$]*): /.exec(stack);
  const type = head !== null && head[1] !== undefined ? head[1] : error?.name ?? "Error";
  const frames = [];
  let line = null;
  for (const text of stack.split("\n").slice(1)) {
    const match = /\(?(program|test)\.js:(\d+):\d+\)?$/.exec(text);
    if (match === null) continue;
    const number = Number(match[2]);
    if (match[1] === "program" && line === null) line = number;
    const name = /^\s*at (?:async )?([^\s(]+) \(/.exec(text)?.[1] ?? "<module>";
    frames.push(`  at ${name} (<${match[1]}>:${number})`);
  }
  const described = { type, message: message.slice(0, VALUE_LIMIT), line };
  if (frames.length > 0) described.traceback = ["Traceback (most recent call first):", ...frames, `${type}: ${described.message}`].join("\n");
  return described;
}

function syntaxFromV8(error) {
  const message = String(error?.message ?? error);
  const match = /\[program\.js:(\d+):(\d+)\]$/.exec(message);
  return {
    type: "SyntaxError",
    message: message.replace(/\s*\[program\.js:\d+:\d+\]$/, ""),
    line: match === null ? null : Number(match[1]),
    offset: match === null ? null : Number(match[2]),
  };
}

// ---------------------------------------------------------------------------
/** One isolate with the runtime and the program: the tests of a pass run in it until it dies. */
class Session {
  constructor({ memoryMb, reprLimit, outputBytes, tracerName }) {
    this.memoryMb = memoryMb;
    this.config = JSON.stringify({ reprLimit, outputBytes, tracerName });
    this.isolate = new ivm.Isolate({ memoryLimit: memoryMb });
    this.runtimeScript = this.isolate.compileScriptSync(RUNTIME_SOURCE, { filename: "tracefix-runtime.js" });
    this.context = undefined;
    this.driver = undefined;
    this.functions = undefined;
    this.programScript = undefined;
    this.programError = undefined;
    this.dead = false;
  }

  /** A fresh context with the runtime in it (one per session for call/assert tests, one per stdio test). */
  newContext() {
    if (this.context !== undefined) this.context.release();
    this.context = this.isolate.createContextSync();
    this.driver = this.runtimeScript.runSync(this.context, { reference: true });
    this.functions = Object.fromEntries(DRIVER_FUNCTIONS.map((name) => [name, this.driver.getSync(name, { reference: true })]));
    this.call("configure", [this.config], 1_000);
    this.contextFresh = true;
    this.loaded = false;
  }

  call(name, args, timeout) {
    return this.functions[name].applySync(this.driver.derefInto(), args, { timeout: milliseconds(timeout) });
  }

  /** Compiles the program; a syntax error is kept (and reported for every test). */
  compile(code) {
    try {
      this.programScript = this.isolate.compileScriptSync(code, { filename: "program.js" });
    } catch (error) {
      if (hostFailure(error) === "memory") throw error;
      this.programError = { kind: "syntax", error: syntaxFromV8(error) };
    }
  }

  compileTest(source) {
    return this.isolate.compileScriptSync(source, { filename: "test.js" });
  }

  dispose() {
    this.dead = true;
    try {
      this.context?.release();
      if (!this.isolate.isDisposed) this.isolate.dispose();
    } catch {
      /* already gone */
    }
  }
}

// A warm isolate is made while the worker waits for work, so a run does not pay for it.
let spare;
function takeSession(options) {
  if (spare !== undefined && spare.memoryMb === options.memoryMb && spare.configText === JSON.stringify(options)) {
    const session = spare.session;
    spare = undefined;
    return session;
  }
  return new Session(options);
}
function prepareSpare(options) {
  if (spare !== undefined) {
    // Runs tend to repeat their limits: keep a spare made for the last ones.
    if (spare.configText === JSON.stringify(options)) return;
    spare.session.dispose();
    spare = undefined;
  }
  try {
    const session = new Session(options);
    session.newContext();
    spare = { session, memoryMb: options.memoryMb, configText: JSON.stringify(options) };
  } catch (error) {
    process.stderr.write(`could not prepare a warm isolate: ${error?.stack ?? error}\n`);
    spare = undefined;
  }
}

// ---------------------------------------------------------------------------
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

class Run {
  constructor(job, send) {
    this.job = job;
    this.send = send;
    this.prefix = `__tf${randomBytes(6).toString("hex")}_`;
    this.limits = job.limits;
    this.trace = job.trace;
    this.entryPoint = job.entry_point ?? null;
    // Untraced sessions have no recorder, so they can come from the warm spare.
    this.sessionOptions = {
      memoryMb: Math.max(8, job.limits.memory_mb),
      reprLimit: job.trace.repr_limit,
      outputBytes: job.limits.output_bytes,
      tracerName: null,
    };
    this.tracedOptions = { ...this.sessionOptions, tracerName: `${this.prefix}T` };
    this.plainCode = undefined;
    this.instrumentedCode = undefined;
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

  instrumented() {
    if (this.instrumentedCode === undefined) {
      try {
        this.instrumentedCode = instrument(this.plainCode, this.prefix).code;
      } catch {
        this.instrumentedCode = null;
      }
    }
    return this.instrumentedCode;
  }

  newSession(traced) {
    const session = traced ? new Session(this.tracedOptions) : takeSession(this.sessionOptions);
    session.compile(traced ? this.instrumented() : this.plainCode);
    return session;
  }

  /** Loads the program's top level into a call/assert session (once). */
  loadProgram(session) {
    if (session.loaded) return;
    if (session.context === undefined) session.newContext();
    session.loaded = true;
    if (session.programError !== undefined) return;
    try {
      session.programScript.runSync(session.context, { timeout: milliseconds(this.limits.timeout_ms) });
    } catch (error) {
      const failure = hostFailure(error);
      if (failure === "memory") throw error;
      session.programError = failure === "timeout" ? { kind: "timeout" } : { kind: "error", error: describeHostError(error) };
    }
  }

  baseResult(test, index) {
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

  /** Runs one test in `session`; returns the raw outcome from runtime.js plus timing. */
  runTest(session, test, traceMode) {
    const started = performance.now();
    const deadline = started + this.limits.timeout_ms;
    const remaining = () => deadline - performance.now();
    const stdio = test.kind === "stdio";
    if (stdio) {
      if (session.contextFresh !== true) session.newContext();
      session.contextFresh = false;
    } else {
      this.loadProgram(session);
      session.contextFresh = false;
    }
    const begin = { seed: 1, testLines: test.kind === "assert" ? 1 : 0 };
    if (stdio) begin.stdin = test.stdin ?? "";
    if (traceMode !== undefined) begin.trace = traceMode;
    session.call("beginTest", [JSON.stringify(begin)], 1_000);
    let expected;
    if (stdio) {
      if (session.programError?.kind === "syntax") return { outcome: "syntax", error: session.programError.error, started };
      try {
        session.programScript.runSync(session.context, { timeout: milliseconds(remaining()) });
      } catch (error) {
        if (hostFailure(error) !== "other") throw error;
        const described = describeHostError(error);
        session.call("programFinished", [true, JSON.stringify(described)], 1_000);
        if (traceMode !== undefined) session.call("moduleThrew", [described.message === "" ? described.type : `${described.type}: ${described.message}`], 1_000);
      }
    } else {
      const programError = session.programError;
      if (programError !== undefined) {
        if (programError.kind === "syntax") return { outcome: "syntax", error: programError.error, started };
        if (programError.kind === "timeout") return { outcome: "load-timeout", started };
        return { outcome: "error", error: programError.error, started };
      }
      if (test.kind === "call") {
        expected = this.expectedFor(session, test, remaining);
        if (expected?.error !== undefined) return { outcome: "test-error", error: expected.error, started };
        let argumentList;
        if (test.input !== undefined) {
          try {
            argumentList = session.compileTest(`(${test.input}\n)`).runSync(session.context, { reference: true, timeout: milliseconds(remaining()) });
          } catch (error) {
            if (hostFailure(error) !== "other") throw error;
            return { outcome: "test-error", error: { ...describeHostError(error), message: `the test's input could not be evaluated: ${error.message}` }, started };
          }
        }
        if (argumentList !== undefined) session.functions.callEntry.applySync(session.driver.derefInto(), [this.entryPoint ?? "", "", argumentList.derefInto()], { timeout: milliseconds(remaining()) });
        else session.call("callEntry", [this.entryPoint ?? "", JSON.stringify(test.args ?? [])], remaining());
      } else {
        const parameter = this.declaresAssert(test.code) ? "_tracefixAssert" : "assert";
        let testFunction;
        try {
          testFunction = session.compileTest(`(function (${parameter}, require) {\n${test.code}\n})`).runSync(session.context, { reference: true, timeout: milliseconds(remaining()) });
        } catch (error) {
          if (hostFailure(error) !== "other") throw error;
          const described = /\[test\.js:(\d+)/.exec(String(error.message));
          return {
            outcome: "test-error",
            error: { type: "SyntaxError", message: `the test code does not compile: ${String(error.message).replace(/\s*\[test\.js:\d+:\d+\]$/, "")}`, line: null, ...(described === null ? {} : { test_line: Number(described[1]) - 1 }) },
            started,
          };
        }
        session.call("setTestSource", [test.code], 1_000);
        session.functions.runTestFunction.applySync(session.driver.derefInto(), [testFunction.derefInto()], { timeout: milliseconds(remaining()) });
      }
    }
    // Microtasks ran after each call; now the virtual timers: one task per
    // call at first, then growing batches (see stepMany in runtime.js).
    for (let calls = 0; ; calls++) {
      const left = remaining();
      if (left <= 0) throw new Error("Script execution timed out.");
      const state = calls < SINGLE_STEPS ? session.call("step", [stdio], left) : session.call("stepMany", [stdio, Math.min(4096, 16 * (calls - SINGLE_STEPS + 1))], left);
      if (state !== "more") break;
    }
    if (traceMode !== undefined) session.call("settleOpen", [], 1_000);
    const raw = JSON.parse(session.call("finish", [test.kind], 1_000));
    raw.started = started;
    raw.expected = expected;
    return raw;
  }

  /** Parsed once per test code, not once per pass. */
  declaresAssert(code) {
    this.assertDeclarations ??= new Map();
    if (!this.assertDeclarations.has(code)) this.assertDeclarations.set(code, assertDeclaresAssert(code));
    return this.assertDeclarations.get(code);
  }

  /** The expected value of a call test: JSON (canonical here), else an `output` expression evaluated in the isolate. */
  expectedFor(session, test, remaining) {
    if (test.expected !== undefined) {
      const text = JSON.stringify(test.expected);
      return { canonical: canonicalFromJson(test.expected), repr: session.call("expectedFromJson", [text], 1_000) };
    }
    if (test.output === undefined) return undefined;
    try {
      const parsed = JSON.parse(test.output);
      return { canonical: canonicalFromJson(parsed), repr: session.call("expectedFromJson", [test.output], 1_000) };
    } catch {
      /* not JSON: a JavaScript expression */
    }
    try {
      const value = session.compileTest(`(${test.output}\n)`).runSync(session.context, { reference: true, timeout: milliseconds(remaining()) });
      const described = JSON.parse(session.functions.expectedValue.applySync(session.driver.derefInto(), [value.derefInto()], { timeout: 1_000 }));
      return { canonical: described.canonical, repr: described.repr };
    } catch (error) {
      if (hostFailure(error) !== "other") throw error;
      return { error: { ...describeHostError(error), message: `the test's expected output could not be evaluated: ${error.message}` } };
    }
  }

  /** The report entry of one test from its raw outcome. */
  verdict(test, index, raw) {
    const result = this.baseResult(test, index);
    result.duration_ms = Math.round((performance.now() - raw.started) * 1000) / 1000;
    if (raw.stdout !== undefined) {
      result.stdout = raw.stdout;
      result.stderr = raw.stderr;
      result.output_truncated = raw.truncated;
    }
    if (test.kind === "call" && raw.expected !== undefined) result.expected = raw.expected.repr;
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
        if (test.kind === "stdio" && (raw.exit_code === "0" || raw.exit_code === "undefined")) return this.judgeStdio(test, result);
        result.status = "runtime_error";
        result.error = {
          type: "ProcessExit",
          message: `the program called process.exit(${raw.exit_code}) during the test${test.kind === "stdio" ? "" : " (exiting does not count as passing)"}`,
          line: null,
        };
        return result;
      case "pending":
        result.status = "runtime_error";
        result.error = { type: "PendingPromise", message: "the returned promise never settled (nothing was left to run)", line: null };
        return result;
      case "error": {
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
      case "returned":
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
      default:
        result.status = "runtime_error";
        result.error = { type: "SandboxViolation", message: `unknown outcome ${String(raw.outcome)}`, line: null };
        return result;
    }
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

  failureResult(test, index, kind, started, extra = {}) {
    const result = this.baseResult(test, index);
    result.duration_ms = Math.round((performance.now() - started) * 1000) / 1000;
    if (extra.expected !== undefined) result.expected = extra.expected;
    if (kind === "timeout") {
      result.status = "timeout";
      result.error = { type: "Timeout", message: `the test ran longer than ${this.limits.timeout_ms} ms`, line: null };
    } else if (kind === "memory") {
      result.status = "memory_limit";
      result.error = { type: "MemoryError", message: `the program ran out of memory (limit ${this.limits.memory_mb} MB)`, line: null };
    } else {
      result.status = "runtime_error";
      result.error = { type: "SandboxError", message: extra.message ?? "the isolate failed", line: null };
    }
    return result;
  }

  /** The untraced pass: every test, in order, the verdicts. */
  untracedPass() {
    const results = [];
    let session;
    for (const [index, test] of this.job.tests.entries()) {
      if (session === undefined || session.dead) session = this.newSession(false);
      const started = performance.now();
      let result;
      try {
        result = this.verdict(test, index, this.runTest(session, test, undefined));
      } catch (error) {
        const failure = hostFailure(error);
        result = this.failureResult(test, index, failure, started, { message: String(error?.message ?? error) });
        // A test that timed out or ran the isolate out of memory leaves it unusable: the next test gets a fresh one.
        session.dispose();
      }
      results.push(result);
      this.send({ t: "result", index, result });
    }
    if (session !== undefined) this.finished.push(session);
    return results;
  }

  /** One traced run of a test: the head, and when the run was longer, its tail from a replay. */
  tracedRun(test) {
    const { head, tail } = traceCapacities(this.trace);
    const started = performance.now();
    const attempt = (mode) => {
      const session = this.newSession(true);
      try {
        return { raw: this.runTest(session, test, mode), failure: undefined };
      } catch (error) {
        const failure = hostFailure(error);
        // A timed-out isolate is still readable: what the recorder kept up to the deadline.
        if (failure === "timeout" && mode.mode === "ring") {
          try {
            session.call("settleOpen", [], 1_000);
            return { raw: JSON.parse(session.call("finish", [test.kind], 1_000)), failure };
          } catch {
            return { raw: undefined, failure };
          }
        }
        return { raw: undefined, failure };
      } finally {
        this.finished.push(session);
      }
    };
    const first = attempt({ mode: "head", head });
    if (first.raw === undefined) {
      if (first.failure !== "timeout") return undefined;
      // It never finished: replay keeping the newest events until the deadline.
      const ring = attempt({ mode: "ring", head, tail });
      if (ring.raw?.trace !== undefined) return this.timedOutTrace(ring.raw.trace.events, started, head);
      return undefined;
    }
    const trace = first.raw.trace;
    if (trace === undefined) return undefined;
    if (trace.event_count <= head) {
      return {
        events: trace.events,
        backend: "instrumented",
        truncated: false,
        total_events: trace.event_count,
        total_steps: trace.line_count,
        gap: null,
        duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      };
    }
    const from = trace.event_count - tail + 1;
    const replay = attempt({ mode: "from", from: Math.max(head + 1, from) });
    const exact = replay.raw?.trace !== undefined && replay.raw.trace.event_count === trace.event_count;
    const headEvents = trace.events.filter((event) => event.step <= head);
    if (!exact) {
      return {
        events: headEvents,
        backend: "instrumented",
        truncated: true,
        total_events: trace.event_count,
        total_steps: trace.line_count,
        gap: { after_step: head, events: null, reason: "tail unavailable: the re-run took another path" },
        duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      };
    }
    const tailEvents = replay.raw.trace.events;
    const firstStep = tailEvents[0]?.step ?? trace.event_count + 1;
    return {
      events: [...headEvents, ...tailEvents],
      backend: "instrumented",
      truncated: true,
      total_events: trace.event_count,
      total_steps: trace.line_count,
      gap: { after_step: head, events: firstStep - head - 1 },
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    };
  }

  /** The events a timed-out run's replay kept: its head, then its newest events before the deadline. */
  timedOutTrace(events, started, head) {
    const tailEvents = events.filter((event) => event.step > head);
    const firstTail = tailEvents[0]?.step;
    return {
      events,
      backend: "instrumented",
      truncated: true,
      total_events: null,
      total_steps: null,
      steps_at_least: events.filter((event) => event.event === "line").length,
      gap: firstTail === undefined ? null : { after_step: head, events: firstTail - head - 1, reason: "timeout: the last events before the deadline" },
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    };
  }

  execute() {
    const started = performance.now();
    this.prepareSources();
    const results = this.untracedPass();
    const mode = this.trace.mode;
    if (mode !== "none") {
      const selected = results
        .filter((result) => mode === "all" || (result.status !== "passed" && result.status !== "syntax_error"))
        .slice(0, this.trace.max_tests);
      if (selected.length > 0 && this.instrumented() !== null) {
        for (const result of selected) {
          const test = this.job.tests[result.index];
          const trace = this.tracedRun(test);
          if (trace === undefined) continue;
          result.trace = trace;
          if (trace.total_steps !== null) result.steps = trace.total_steps;
          else if (trace.steps_at_least !== undefined) result.steps_at_least = trace.steps_at_least;
        }
      }
    }
    const passed = results.filter((result) => result.status === "passed").length;
    return {
      status: passed === results.length ? "passed" : "failed",
      passed,
      total: results.length,
      tests: results,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    };
  }
}

/** Compiles only (nothing runs), in an isolate kept for that. */
let syntaxIsolate;
function checkSyntax(code) {
  let script = code;
  try {
    script = toScript(code);
  } catch (error) {
    if (error instanceof ProgramSyntaxError) return { ok: false, message: error.message, line: error.line ?? null };
    throw error;
  }
  if (syntaxIsolate === undefined || syntaxIsolate.isDisposed) syntaxIsolate = new ivm.Isolate({ memoryLimit: 64 });
  try {
    syntaxIsolate.compileScriptSync(script, { filename: "program.js" });
    return { ok: true };
  } catch (error) {
    const described = syntaxFromV8(error);
    return { ok: false, message: described.message, line: described.line };
  }
}

const defaultSessionOptions = { memoryMb: 512, reprLimit: 80, outputBytes: 65_536, tracerName: null };

// ---------------------------------------------------------------------------
function send(message) {
  if (process.connected) process.send(message);
}

function handle(message) {
  if (message === null || typeof message !== "object") return;
  const id = message.id;
  try {
    if (message.op === "run") {
      const run = new Run(message.job, (progress) => send({ id, ...progress }));
      send({ id, t: "done", report: run.execute() });
      // After the answer: clean up and make the next run's isolate, then say so
      // (the pool gives this worker its next job only then).
      for (const session of run.finished) session.dispose();
      prepareSpare(run.sessionOptions);
      send({ t: "idle" });
    } else if (message.op === "syntax") {
      send({ id, t: "syntax", syntax: checkSyntax(message.code) });
      prepareSpare(defaultSessionOptions);
      send({ t: "idle" });
    }
  } catch (error) {
    send({ id, t: "failed", error: { code: "harness_error", message: String(error?.stack ?? error) } });
    send({ t: "idle" });
  }
}

let failures = 0;
process.on("message", (message) => {
  try {
    handle(message);
    failures = 0;
  } catch {
    failures += 1;
    if (failures >= MAX_RUNTIME_FAILURES) process.exit(70);
  }
});
process.on("disconnect", () => process.exit(0));

prepareSpare(defaultSessionOptions);
send({ t: "ready", info: { node: process.versions.node, v8: process.versions.v8, isolated_vm: isolatedVmVersion } });
