/**
 * A warm pool of Python fork servers (default: one per core). Jobs queue in
 * arrival order and go to the first idle worker. A worker that dies is
 * replaced; a job that outlives every limit it was given is stopped by
 * killing its worker. Aborting a job drops it from the queue or cancels it
 * in its worker.
 */
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { AbortedError, SandboxError } from "../../shared/errors.ts";
import { consoleLogger, type Logger } from "../../shared/logger.ts";
import type { ExecutionJob, ExecutionReport, TestReport } from "../../shared/schema/execution.ts";
import type { ExecuteOptions, Executor, ExecutorHealth, SyntaxCheck } from "../executor.ts";
import { ForkServerProcess, type ForkServerInfo } from "./fork-server.ts";
import { findInterpreter, type PythonInterpreter } from "./interpreter.ts";
import { planIsolation, type IsolationPlan } from "./isolation.ts";

export const HARNESS_DIRECTORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../sandbox/python");

export interface PythonPoolOptions {
  readonly size?: number | undefined;
  /** Interpreter command; default: PYTHON, else the newest python3.x found. */
  readonly python?: string | undefined;
  readonly isolation?: "auto" | "bwrap" | "rlimits" | undefined;
  readonly logger?: Logger | undefined;
  readonly uidBase?: number | undefined;
}

interface Slot {
  readonly index: number;
  process: ForkServerProcess;
  state: "starting" | "idle" | "busy" | "dead";
  info: ForkServerInfo | undefined;
  recentExits: number[];
  /** When the slot last became idle: after a run a fork server still reaps and pre-forks, so the longest-idle one is the readiest. */
  idleSince: number;
}

/** Work waiting for a worker: a run or a syntax check. */
interface QueuedTask {
  readonly signal: AbortSignal | undefined;
  /** Does the work on the worker and settles the caller's promise. */
  readonly perform: (slot: Slot) => Promise<void>;
  readonly reject: (error: Error) => void;
  readonly onAbort: () => void;
}

/** Seconds a job may take at most before its worker is presumed stuck. */
function hardLimitMs(job: ExecutionJob): number {
  const tests = Math.max(1, job.tests.length);
  const perTest = job.limits.timeout_ms + 500;
  const traced = job.trace.mode === "none" ? 0 : Math.min(tests, job.trace.max_tests) * (job.limits.timeout_ms + 3_000);
  return tests * perTest + traced + 10_000;
}

function errorReport(job: ExecutionJob, code: string, message: string, startedAt: number): ExecutionReport {
  return {
    status: "error",
    language: job.language,
    passed: 0,
    total: job.tests.length,
    tests: [],
    duration_ms: Date.now() - startedAt,
    error: { code, message },
  };
}

export class PythonPool implements Executor {
  readonly languages = ["python"] as const;
  readonly interpreter: PythonInterpreter;
  readonly isolation: IsolationPlan;
  private readonly slots: Slot[] = [];
  private readonly queue: QueuedTask[] = [];
  private readonly logger: Logger;
  private restarts = 0;
  private closed = false;

  private constructor(interpreter: PythonInterpreter, isolation: IsolationPlan, size: number, logger: Logger) {
    this.interpreter = interpreter;
    this.isolation = isolation;
    this.logger = logger;
    for (let index = 0; index < size; index++) {
      this.slots.push({ index, process: this.spawn(index), state: "starting", info: undefined, recentExits: [], idleSince: 0 });
    }
  }

  static async start(options: PythonPoolOptions = {}): Promise<PythonPool> {
    const logger = options.logger ?? consoleLogger;
    const interpreter = await findInterpreter(options.python);
    const isolation = await planIsolation({
      interpreter,
      harnessDirectory: HARNESS_DIRECTORY,
      prefer: options.isolation ?? "auto",
      ...(options.uidBase === undefined ? {} : { uidBase: options.uidBase }),
    });
    const size = options.size ?? Math.max(1, availableParallelism());
    const pool = new PythonPool(interpreter, isolation, size, logger);
    const started = await Promise.all(pool.slots.map((slot) => pool.awaitReady(slot)));
    if (!started.some(Boolean)) {
      await pool.close();
      throw new SandboxError("worker_start_failed", "no Python fork server started; see the errors above");
    }
    const first = pool.slots[0]?.info;
    if (isolation.kind === "bwrap") {
      logger.info(`python sandbox: bubblewrap (${isolation.features.join(", ")})`, {
        python: interpreter.version.join("."),
        executable: interpreter.executable,
        tracer: first?.tracer,
        workers: size,
      });
    } else {
      logger.warn(
        `python sandbox: NOT isolated by bubblewrap (${isolation.fallbackReason ?? "unknown reason"}); running with ${isolation.features.join(", ")} only`,
        { python: interpreter.version.join("."), executable: interpreter.executable, workers: size },
      );
    }
    return pool;
  }

  private spawn(index: number): ForkServerProcess {
    const process = new ForkServerProcess(index, this.isolation.launch(index));
    void process.exit.then(() => this.onExit(index, process));
    return process;
  }

  /** Marks the slot idle once its fork server reports itself; false when it did not start. */
  private async awaitReady(slot: Slot): Promise<boolean> {
    const process = slot.process;
    try {
      slot.info = await process.ready;
    } catch (error) {
      this.logger.error("a Python fork server did not start", { slot: slot.index, error: String(error) });
      return false;
    }
    if (slot.process === process && slot.state === "starting") {
      slot.state = "idle";
      this.dispatch();
    }
    return true;
  }

  private onExit(index: number, process: ForkServerProcess): void {
    const slot = this.slots[index];
    if (slot === undefined || slot.process !== process) return;
    slot.state = "dead";
    if (this.closed) return;
    const now = Date.now();
    slot.recentExits = [...slot.recentExits.filter((time) => now - time < 10_000), now];
    // A worker that keeps dying right away is restarted more slowly.
    const delay = slot.recentExits.length > 3 ? 1_000 * (slot.recentExits.length - 3) : 0;
    this.restarts += 1;
    setTimeout(() => {
      if (this.closed || slot.process !== process) return;
      slot.process = this.spawn(index);
      slot.state = "starting";
      slot.info = undefined;
      void this.awaitReady(slot);
    }, delay).unref();
  }

  /** Queues `work` for the next free worker; aborting drops it from the queue. */
  private enqueue<Result>(signal: AbortSignal | undefined, work: (slot: Slot, resolve: (value: Result) => void) => Promise<void>): Promise<Result> {
    if (this.closed) return Promise.reject(new SandboxError("executor_closed", "the sandbox is shutting down"));
    if (signal?.aborted) return Promise.reject(new AbortedError("sandbox"));
    return new Promise<Result>((resolve, reject) => {
      const task: QueuedTask = {
        signal,
        perform: (slot) => work(slot, resolve).catch(reject),
        reject,
        onAbort: () => {
          const position = this.queue.indexOf(task);
          if (position >= 0) {
            this.queue.splice(position, 1);
            reject(new AbortedError("sandbox", "the job was dropped from the queue"));
          }
        },
      };
      signal?.addEventListener("abort", task.onAbort, { once: true });
      this.queue.push(task);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let chosen: Slot | undefined;
      for (const slot of this.slots) {
        if (slot.state === "idle" && (chosen === undefined || slot.idleSince < chosen.idleSince)) chosen = slot;
      }
      if (chosen === undefined) return;
      const task = this.queue.shift();
      if (task === undefined) return;
      task.signal?.removeEventListener("abort", task.onAbort);
      void this.occupy(chosen, task);
    }
  }

  /** Runs a task on a slot, then frees the slot for the next one. */
  private async occupy(slot: Slot, task: QueuedTask): Promise<void> {
    const process = slot.process;
    slot.state = "busy";
    try {
      await task.perform(slot);
    } finally {
      if (slot.process === process && slot.state === "busy") {
        slot.state = process.alive ? "idle" : "dead";
        slot.idleSince = performance.now();
      }
      this.dispatch();
    }
  }

  execute(job: ExecutionJob, options: ExecuteOptions = {}): Promise<ExecutionReport> {
    const signal = options.signal;
    return this.enqueue<ExecutionReport>(signal, async (slot, resolve) => {
      const startedAt = Date.now();
      const process = slot.process;
      let stuck = false;
      const watchdog = setTimeout(() => {
        stuck = true;
        process.kill();
      }, hardLimitMs(job));
      try {
        const raw = await process.run(
          { code: job.code, entry_point: job.entryPoint ?? null, tests: job.tests, trace: job.trace, limits: job.limits },
          signal,
        );
        resolve(this.toReport(job, raw));
      } catch (error) {
        if (signal?.aborted) throw new AbortedError("sandbox", "the run was cancelled", { cause: error });
        if (stuck) {
          resolve(errorReport(job, "sandbox_stuck", "the sandbox did not finish within the job's limits and was restarted", startedAt));
          return;
        }
        const sandboxError = error instanceof SandboxError ? error : undefined;
        this.logger.warn("sandbox run failed", { slot: slot.index, error: String(error) });
        resolve(errorReport(job, sandboxError?.code ?? "sandbox_error", String((error as Error).message ?? error), startedAt));
      } finally {
        clearTimeout(watchdog);
      }
    });
  }

  checkSyntax(_language: "python", code: string, options: ExecuteOptions = {}): Promise<SyntaxCheck> {
    return this.enqueue<SyntaxCheck>(options.signal, async (slot, resolve) => {
      try {
        resolve((await slot.process.syntax(code)) as SyntaxCheck);
      } catch (error) {
        resolve({ ok: false, message: `the syntax check failed: ${String(error)}`, line: null });
      }
    });
  }

  private toReport(job: ExecutionJob, raw: unknown): ExecutionReport {
    const report = raw as { status: "passed" | "failed"; passed: number; total: number; tests: TestReport[]; duration_ms: number };
    const tests = report.tests.map((test) => {
      const name = job.tests[test.index]?.name;
      return name === undefined ? test : { ...test, name };
    });
    return {
      status: report.status,
      language: job.language,
      passed: report.passed,
      total: report.total,
      tests,
      duration_ms: report.duration_ms,
    };
  }

  health(): ExecutorHealth {
    const count = (state: Slot["state"]): number => this.slots.filter((slot) => slot.state === state).length;
    const info = this.slots.find((slot) => slot.info !== undefined)?.info;
    return {
      ok: !this.closed && this.slots.some((slot) => slot.state === "idle" || slot.state === "busy"),
      languages: this.languages,
      isolation: {
        kind: this.isolation.kind,
        features: this.isolation.features,
        ...(this.isolation.fallbackReason === undefined ? {} : { fallback_reason: this.isolation.fallbackReason }),
      },
      runtime: {
        python: this.interpreter.version.join("."),
        executable: this.interpreter.executable,
        tracer: info?.tracer,
        nested_namespaces: info?.nested_namespaces,
      },
      workers: {
        size: this.slots.length,
        ready: count("idle"),
        busy: count("busy"),
        queued: this.queue.length,
        restarts: this.restarts,
      },
    };
  }

  /** Pids of the fork server processes (for tests that check nothing is left behind). */
  workerPids(): number[] {
    return this.slots.map((slot) => slot.process.pid).filter((pid): pid is number => pid !== undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.queue.splice(0)) entry.reject(new SandboxError("executor_closed", "the sandbox is shutting down"));
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.process.kill();
        await slot.process.exit;
      }),
    );
  }
}
