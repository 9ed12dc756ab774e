/*
 * Isolates for one run: a Session is one isolate with the runtime (and the
 * program) in it; a Budget is the run's wall-clock allowance
 * (`limits.total_ms`), and every call into an isolate is cut to what is left
 * of it. Errors isolated-vm raises for what happened in an isolate are told
 * apart here, and described without any host path or host stack frame.
 */
import { readFileSync } from "node:fs";

import ivm from "isolated-vm";

const RUNTIME_SOURCE = readFileSync(new URL("./runtime.js", import.meta.url), "utf8");
const DRIVER_FUNCTIONS = ["configure", "beginTest", "callEntry", "runTestFunction", "programFinished", "step", "stepMany", "finish", "output", "expectedValue", "moduleThrew", "setTestSource", "settleOpen"];
export const VALUE_LIMIT = 2000;
/** Calls that only read what the recorder kept after a deadline passed may run this long past it (the pool's slack covers it). */
const GRACE_MS = 250;

/**
 * V8's code cache for the runtime, made by the first isolate of this
 * process from our own source (never from anything a program touched):
 * compiling the runtime with it takes ~0.3 ms instead of ~3, and every run
 * compiles it once (in the warm spare, off the run's path, but on the
 * worker's: the pool waits for the spare before the next job).
 */
let runtimeCache;
function compileRuntime(isolate) {
  if (runtimeCache === undefined) {
    const script = isolate.compileScriptSync(RUNTIME_SOURCE, { filename: "tracefix-runtime.js", produceCachedData: true });
    runtimeCache = script.cachedData;
    return script;
  }
  const script = isolate.compileScriptSync(RUNTIME_SOURCE, { filename: "tracefix-runtime.js", cachedData: runtimeCache });
  if (script.cachedDataRejected === true) runtimeCache = undefined;
  return script;
}

/** isolated-vm wants whole milliseconds, at least 1. */
export function milliseconds(value) {
  return Math.max(1, Math.ceil(value));
}

/** Raised instead of calling into an isolate when the run's budget is spent (reported as the test's timeout). */
export class BudgetSpentError extends Error {
  constructor() {
    super("the run's time budget is spent");
    this.name = "BudgetSpentError";
  }
}

export class Budget {
  constructor(totalMs) {
    this.totalMs = totalMs;
    this.deadline = performance.now() + totalMs;
  }

  left() {
    return this.deadline - performance.now();
  }

  /** `ms` cut to what is left; throws BudgetSpentError when nothing is. */
  cut(ms) {
    const left = Math.min(ms, this.left());
    if (left <= 0) throw new BudgetSpentError();
    return milliseconds(left);
  }
}

/** What an isolated-vm error says happened: "timeout", "memory" or "other". */
export function hostFailure(error) {
  if (error instanceof BudgetSpentError) return "timeout";
  const message = String(error?.message ?? error);
  if (/timed out/i.test(message)) return "timeout";
  if (/memory limit/i.test(message) || /disposed/i.test(message)) return "memory";
  return "other";
}

/** An error thrown by a program's top level, as isolated-vm copies it out: only the program's and the test's frames are kept. */
export function describeHostError(error) {
  const stack = typeof error?.stack === "string" ? error.stack : "";
  const message = typeof error?.message === "string" ? error.message : String(error);
  // The stack's first line keeps a custom class's name ("ParseError: …") where the copy became Error.
  const head = /^([A-Za-z_$][\w$]*): /.exec(stack);
  const type = head !== null && head[1] !== undefined ? head[1] : typeof error?.name === "string" ? error.name : "Error";
  const frames = [];
  let line = null;
  for (const text of stack.split("\n").slice(1)) {
    const match = /\(?(program|test)\.js:(\d+):\d+\)?$/.exec(text);
    if (match === null) continue;
    const number = Number(match[2]);
    if (match[1] === "program" && line === null) line = number;
    const name = /^\s*at (?:async )?([^\s(]+) \(/.exec(text)?.[1] ?? "<module>";
    frames.push(`  at ${name.slice(0, 200)} (<${match[1]}>:${number})`);
    if (frames.length >= 64) break;
  }
  const described = { type: type.slice(0, 200), message: message.slice(0, VALUE_LIMIT), line };
  if (frames.length > 0) described.traceback = ["Traceback (most recent call first):", ...frames, `${described.type}: ${described.message}`].join("\n");
  return described;
}

export function syntaxFromV8(error) {
  const message = String(error?.message ?? error);
  const match = /\[program\.js:(\d+):(\d+)\]$/.exec(message);
  return {
    type: "SyntaxError",
    message: message.replace(/\s*\[program\.js:\d+:\d+\]$/, "").slice(0, VALUE_LIMIT),
    line: match === null ? null : Number(match[1]),
    offset: match === null ? null : Number(match[2]),
  };
}

/** One isolate with the runtime and (unless it evaluates a test's expected output) the program: the tests of a pass run in it until it dies. */
export class Session {
  constructor({ memoryMb, reprLimit, outputBytes, tracerName, sites }) {
    this.memoryMb = memoryMb;
    this.config = JSON.stringify({ reprLimit, outputBytes, tracerName, sites: sites ?? null });
    this.isolate = new ivm.Isolate({ memoryLimit: memoryMb });
    this.runtimeScript = compileRuntime(this.isolate);
    this.context = undefined;
    this.driver = undefined;
    this.functions = undefined;
    this.programScript = undefined;
    this.programError = undefined;
    this.dead = false;
    /** Set by the run that takes the session (a warm spare is made before any run). */
    this.budget = undefined;
  }

  /** A fresh context with the runtime in it (one per session for call/assert tests, one per stdio test). */
  newContext() {
    if (this.context !== undefined) this.context.release();
    this.context = this.isolate.createContextSync();
    this.driver = this.runtimeScript.runSync(this.context, { reference: true });
    this.functions = Object.fromEntries(DRIVER_FUNCTIONS.map((name) => [name, this.driver.getSync(name, { reference: true })]));
    // No program has run in this context yet: configure cannot meet its code.
    this.functions.configure.applySync(this.driver.derefInto(), [this.config], { timeout: 1_000 });
    this.contextFresh = true;
    this.loaded = false;
  }

  /** A timeout of at most `ms`, cut to the run's budget (or, with `grace`, a short time past it, to read what is left). */
  timeout(ms, grace = false) {
    if (grace) return milliseconds(Math.min(ms, GRACE_MS));
    return this.budget === undefined ? milliseconds(ms) : this.budget.cut(ms);
  }

  call(name, args, ms, grace = false) {
    return this.functions[name].applySync(this.driver.derefInto(), args, { timeout: this.timeout(ms, grace) });
  }

  /** Calls a driver function with arguments that are references into this isolate. */
  callWith(name, args, ms) {
    return this.functions[name].applySync(this.driver.derefInto(), args, { timeout: this.timeout(ms) });
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
export function takeSession(options) {
  if (spare !== undefined && spare.configText === JSON.stringify(options)) {
    const session = spare.session;
    spare = undefined;
    return session;
  }
  return new Session(options);
}
export function prepareSpare(options) {
  const configText = JSON.stringify(options);
  if (spare !== undefined) {
    // Runs tend to repeat their limits: keep a spare made for the last ones.
    if (spare.configText === configText) return;
    spare.session.dispose();
    spare = undefined;
  }
  try {
    const session = new Session(options);
    session.newContext();
    spare = { session, configText };
  } catch (error) {
    process.stderr.write(`could not prepare a warm isolate: ${error?.stack ?? error}\n`);
    spare = undefined;
  }
}

/**
 * A test's `output` expression is the test's, not the program's: it is
 * evaluated in an isolate of its own (one per run, made when first needed),
 * where no program ran, so nothing the program patched can change it.
 */
export class ExpectedEvaluator {
  constructor(options, budget) {
    this.options = { ...options, tracerName: null, sites: null };
    this.budget = budget;
    this.session = undefined;
  }

  /** {canonical, repr} or {error}; `deadline` is the test's. */
  evaluate(expression, deadline) {
    if (this.session === undefined || this.session.dead) {
      this.session = new Session(this.options);
      this.session.budget = this.budget;
      this.session.newContext();
    }
    const session = this.session;
    try {
      const timeout = session.timeout(deadline - performance.now());
      const value = session.compileTest(`(${expression}\n)`).runSync(session.context, { reference: true, timeout });
      return JSON.parse(session.callWith("expectedValue", [value.derefInto()], 1_000));
    } catch (error) {
      const failure = hostFailure(error);
      if (failure !== "other") session.dispose();
      const why = failure === "timeout" ? "it ran out of time" : failure === "memory" ? "it ran out of memory" : describeHostError(error).message;
      return { error: { type: failure === "other" ? describeHostError(error).type : "Error", message: `the test's expected output could not be evaluated: ${why}`, line: null } };
    }
  }

  dispose() {
    this.session?.dispose();
  }
}
