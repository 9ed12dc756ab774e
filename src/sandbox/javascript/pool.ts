/**
 * A warm pool of JavaScript workers (child processes running isolated-vm;
 * default: one per core), on the shared WorkerSlots. Each run gets a fresh
 * isolate in its worker. A worker that dies in the middle of a run (an
 * isolate that took its process down, or a kill from outside) is replaced;
 * the test it was running is reported as a crash and the tests after it run
 * on another worker, so the caller still gets a report for every test.
 * Aborting a running job kills its worker: isolated-vm runs synchronously,
 * so a cancel message would only be read after the run.
 */
import { availableParallelism } from "node:os";

import { AbortedError, SandboxError } from "../../shared/errors.ts";
import { consoleLogger, type Logger } from "../../shared/logger.ts";
import type { ExecutionJob, ExecutionReport, TestReport } from "../../shared/schema/execution.ts";
import type { ExecuteOptions, Executor, ExecutorHealth, SyntaxCheck } from "../executor.ts";
import { queueOptions, sandboxErrorReport, WorkerSlots, type AdmissionLimits } from "../worker-pool.ts";
import { JavaScriptWorkerProcess, type JavaScriptWorkerInfo } from "./worker-process.ts";

export interface JavaScriptPoolOptions {
  readonly size?: number | undefined;
  readonly logger?: Logger | undefined;
  /** Queue bounds (architecture/sandbox.md, "Admission"). */
  readonly admission?: AdmissionLimits | undefined;
}

interface RawReport {
  readonly status: "passed" | "failed";
  readonly passed: number;
  readonly total: number;
  readonly tests: TestReport[];
  readonly duration_ms: number;
}

/** What one worker managed before it died: the verdicts it sent, the test it was running. */
interface CrashedRun {
  readonly crashed: true;
  readonly results: ReadonlyMap<number, TestReport>;
  readonly message: string;
}

function hardLimitMs(job: ExecutionJob): number {
  const tests = Math.max(1, job.tests.length);
  const perTest = job.limits.timeout_ms + 500;
  // A traced test may run three times (head, tail replay) plus its load.
  const traced = job.trace.mode === "none" ? 0 : Math.min(tests, job.trace.max_tests) * (3 * job.limits.timeout_ms + 2_000);
  return tests * perTest + traced + 10_000;
}

export class JavaScriptPool implements Executor {
  readonly languages = ["javascript"] as const;
  private readonly workers: WorkerSlots<JavaScriptWorkerProcess, JavaScriptWorkerInfo>;
  private readonly logger: Logger;

  private constructor(size: number, logger: Logger, admission: AdmissionLimits | undefined) {
    this.logger = logger;
    this.workers = new WorkerSlots<JavaScriptWorkerProcess, JavaScriptWorkerInfo>({
      size,
      logger,
      workerName: "JavaScript worker",
      admission,
      spawn: (index) => new JavaScriptWorkerProcess(index),
    });
  }

  static async start(options: JavaScriptPoolOptions = {}): Promise<JavaScriptPool> {
    const logger = options.logger ?? consoleLogger;
    const size = options.size ?? Math.max(1, availableParallelism());
    const pool = new JavaScriptPool(size, logger, options.admission);
    if (!(await pool.workers.started())) {
      await pool.close();
      throw new SandboxError("worker_start_failed", "no JavaScript worker started (is isolated-vm built for this Node version?)");
    }
    const info = pool.workers.firstInfo();
    logger.info(`javascript sandbox: isolated-vm ${info?.isolated_vm ?? "?"} (fresh isolate per run)`, { node: info?.node, workers: size });
    return pool;
  }

  async execute(job: ExecutionJob, options: ExecuteOptions = {}): Promise<ExecutionReport> {
    const startedAt = Date.now();
    const outcome = await this.runOnWorker(job, options, startedAt);
    if ("status" in outcome) return outcome;
    // The worker died during a test: that test is a crash, the rest run again elsewhere.
    const results = outcome.results;
    let crashedIndex = 0;
    while (results.has(crashedIndex)) crashedIndex += 1;
    const crashedTest = job.tests[crashedIndex];
    const tests: TestReport[] = [...results.values()].sort((left, right) => left.index - right.index);
    if (crashedTest !== undefined) {
      tests.push({
        index: crashedIndex,
        kind: crashedTest.kind,
        ...(crashedTest.name === undefined ? {} : { name: crashedTest.name }),
        status: "runtime_error",
        expected: null,
        actual: null,
        stdout: "",
        stderr: "",
        output_truncated: false,
        error: { type: "Crash", message: `the JavaScript worker running this test died (${outcome.message}); it was replaced`, line: null },
        steps: null,
        duration_ms: null,
      });
    }
    const rest = job.tests.slice(crashedIndex + 1);
    if (rest.length > 0) {
      const later = await this.execute({ ...job, tests: rest }, options);
      if (later.status === "error") return later;
      for (const test of later.tests) tests.push({ ...test, index: test.index + crashedIndex + 1 });
    }
    const passed = tests.filter((test) => test.status === "passed").length;
    return {
      status: passed === tests.length ? "passed" : "failed",
      language: job.language,
      passed,
      total: tests.length,
      tests: this.named(job, tests),
      duration_ms: Date.now() - startedAt,
    };
  }

  private runOnWorker(job: ExecutionJob, options: ExecuteOptions, startedAt: number): Promise<ExecutionReport | CrashedRun> {
    const signal = options.signal;
    return this.workers.enqueue<ExecutionReport | CrashedRun>(queueOptions(job, options), async (slot, resolve) => {
      const process = slot.process;
      const results = new Map<number, TestReport>();
      let stuck = false;
      const watchdog = setTimeout(() => {
        stuck = true;
        process.kill();
      }, hardLimitMs(job));
      const onAbort = (): void => process.kill();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        const raw = (await process.run(
          { code: job.code, entry_point: job.entryPoint ?? null, tests: job.tests, trace: job.trace, limits: job.limits },
          (index, result) => results.set(index, result),
        )) as RawReport;
        resolve({
          status: raw.status,
          language: job.language,
          passed: raw.passed,
          total: raw.total,
          tests: this.named(job, raw.tests),
          duration_ms: raw.duration_ms,
        });
      } catch (error) {
        if (signal?.aborted) throw new AbortedError("sandbox", "the run was cancelled", { cause: error });
        if (stuck) {
          resolve(sandboxErrorReport(job, "sandbox_stuck", "the sandbox did not finish within the job's limits and was restarted", startedAt));
          return;
        }
        if (!process.alive || (error instanceof SandboxError && error.code === "worker_exited")) {
          this.logger.warn("a JavaScript worker died during a run; replaced", { slot: slot.index, error: String(error) });
          await process.exit;
          resolve({ crashed: true, results, message: (error as Error).message });
          return;
        }
        const sandboxError = error instanceof SandboxError ? error : undefined;
        this.logger.warn("javascript sandbox run failed", { slot: slot.index, error: String(error) });
        resolve(sandboxErrorReport(job, sandboxError?.code ?? "sandbox_error", String((error as Error).message ?? error), startedAt));
      } finally {
        clearTimeout(watchdog);
        signal?.removeEventListener("abort", onAbort);
      }
      // Hold the slot until the worker has its next isolate ready.
      await process.idle();
    });
  }

  private named(job: ExecutionJob, tests: readonly TestReport[]): TestReport[] {
    return tests.map((test) => {
      const name = job.tests[test.index]?.name;
      return name === undefined ? test : { ...test, name };
    });
  }

  checkSyntax(_language: "javascript", code: string, options: ExecuteOptions = {}): Promise<SyntaxCheck> {
    return this.workers.enqueue<SyntaxCheck>({ signal: options.signal, client: options.client, worstCaseMs: 5_000 }, async (slot, resolve) => {
      try {
        resolve((await slot.process.syntax(code)) as SyntaxCheck);
      } catch (error) {
        resolve({ ok: false, message: `the syntax check failed: ${String(error)}`, line: null });
      }
      await slot.process.idle();
    });
  }

  admit(_language: "javascript", client: string): void {
    this.workers.admit(client);
  }

  health(): ExecutorHealth {
    const info = this.workers.firstInfo();
    return {
      ok: this.workers.healthy,
      languages: this.languages,
      isolation: { kind: "isolated-vm", features: ["fresh isolate per run", "heap limit", "timeout per call", "no host references", "worker process per core"] },
      runtime: { node: info?.node, v8: info?.v8, isolated_vm: info?.isolated_vm, tracer: "instrumented" },
      workers: this.workers.counts(),
    };
  }

  workerPids(state?: "idle" | "busy"): number[] {
    return this.workers.pids(state);
  }

  close(): Promise<void> {
    return this.workers.close();
  }
}
