/**
 * A warm pool of Python fork servers (default: one per core), on the shared
 * WorkerSlots (queue, restarts). A job that outlives every limit it was
 * given is stopped by killing its worker. Aborting a job drops it from the
 * queue or cancels it in its worker.
 */
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { AbortedError, SandboxError } from "../../shared/errors.ts";
import { consoleLogger, type Logger } from "../../shared/logger.ts";
import type { ExecutionJob, ExecutionReport, TestReport } from "../../shared/schema/execution.ts";
import type { ExecuteOptions, Executor, ExecutorHealth, SyntaxCheck } from "../executor.ts";
import { queueOptions, sandboxErrorReport, WorkerSlots, type AdmissionLimits } from "../worker-pool.ts";
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
  /** Queue bounds (architecture/sandbox.md, "Admission"). */
  readonly admission?: AdmissionLimits | undefined;
}

/** Seconds a job may take at most before its worker is presumed stuck. */
function hardLimitMs(job: ExecutionJob): number {
  const tests = Math.max(1, job.tests.length);
  const perTest = job.limits.timeout_ms + 500;
  const traced = job.trace.mode === "none" ? 0 : Math.min(tests, job.trace.max_tests) * (job.limits.timeout_ms + 3_000);
  return tests * perTest + traced + 10_000;
}

export class PythonPool implements Executor {
  readonly languages = ["python"] as const;
  readonly interpreter: PythonInterpreter;
  readonly isolation: IsolationPlan;
  private readonly workers: WorkerSlots<ForkServerProcess, ForkServerInfo>;
  private readonly logger: Logger;

  private constructor(interpreter: PythonInterpreter, isolation: IsolationPlan, size: number, logger: Logger, admission: AdmissionLimits | undefined) {
    this.interpreter = interpreter;
    this.isolation = isolation;
    this.logger = logger;
    this.workers = new WorkerSlots<ForkServerProcess, ForkServerInfo>({
      size,
      logger,
      workerName: "Python fork server",
      admission,
      spawn: (index) => new ForkServerProcess(index, this.isolation.launch(index)),
    });
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
    const pool = new PythonPool(interpreter, isolation, size, logger, options.admission);
    if (!(await pool.workers.started())) {
      await pool.close();
      throw new SandboxError("worker_start_failed", "no Python fork server started; see the errors above");
    }
    const first = pool.workers.firstInfo();
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

  execute(job: ExecutionJob, options: ExecuteOptions = {}): Promise<ExecutionReport> {
    const signal = options.signal;
    return this.workers.enqueue<ExecutionReport>(queueOptions(job, options), async (slot, resolve) => {
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
          resolve(sandboxErrorReport(job, "sandbox_stuck", "the sandbox did not finish within the job's limits and was restarted", startedAt));
          return;
        }
        const sandboxError = error instanceof SandboxError ? error : undefined;
        this.logger.warn("sandbox run failed", { slot: slot.index, error: String(error) });
        resolve(sandboxErrorReport(job, sandboxError?.code ?? "sandbox_error", String((error as Error).message ?? error), startedAt));
      } finally {
        clearTimeout(watchdog);
      }
    });
  }

  checkSyntax(_language: "python", code: string, options: ExecuteOptions = {}): Promise<SyntaxCheck> {
    return this.workers.enqueue<SyntaxCheck>({ signal: options.signal, client: options.client, worstCaseMs: 5_000 }, async (slot, resolve) => {
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

  admit(_language: "python", client: string): void {
    this.workers.admit(client);
  }

  health(): ExecutorHealth {
    const info = this.workers.firstInfo();
    return {
      ok: this.workers.healthy,
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
      workers: this.workers.counts(),
    };
  }

  /** Pids of the fork server processes (for tests that check nothing is left behind). */
  workerPids(): number[] {
    return this.workers.pids();
  }

  close(): Promise<void> {
    return this.workers.close();
  }
}
