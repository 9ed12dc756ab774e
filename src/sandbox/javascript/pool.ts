/**
 * A warm pool of JavaScript workers (child processes running isolated-vm;
 * default: one per core), on the shared WorkerSlots. Each run gets a fresh
 * isolate in its worker. A worker that dies in the middle of a run (an
 * isolate that took its process down, its own heap running out, a kill from
 * outside) is replaced; the test it was running is reported as a crash and
 * the tests after it run on another worker, within what is left of the run's
 * time budget, so the caller still gets a report for every test.
 * Aborting a running job kills its worker: isolated-vm runs synchronously,
 * so a cancel message would only be read after the run.
 *
 * Whatever goes wrong between this process and a worker, the caller gets an
 * answer: a job that cannot be handed over is refused with a sandbox error
 * report; a worker that does not answer within the run's budget (plus a
 * small slack), answers with an oversized frame or never becomes idle again
 * is killed and replaced. What a client sees never names host paths: the
 * details (the worker's stderr, stacks) go to the server's log.
 */
import { availableParallelism } from "node:os";

import { AbortedError, SandboxError } from "../../shared/errors.ts";
import { consoleLogger, type Logger } from "../../shared/logger.ts";
import type { Edit, EditRequest } from "../../shared/schema/edits.ts";
import type { ExecutionJob, ExecutionReport, TestReport } from "../../shared/schema/execution.ts";
import type { ExecuteOptions, Executor, ExecutorHealth, SyntaxCheck } from "../executor.ts";
import { clientMessage, hardLimitMs, queueOptions, sandboxErrorReport, withTestNames, WorkerSlots, type AdmissionLimits, type Slot } from "../worker-pool.ts";
import { javascriptEdits } from "./edits.ts";
import { DEFAULT_WORKER_HEAP_MB, JavaScriptWorkerProcess, type JavaScriptWorkerInfo, type KillReason } from "./worker-process.ts";

export interface JavaScriptPoolOptions {
  readonly size?: number | undefined;
  readonly logger?: Logger | undefined;
  /** The worker processes' own V8 heap (--max-old-space-size), not the isolates'. */
  readonly workerHeapMb?: number | undefined;
  /** Queue bounds (architecture/sandbox.md, "Admission"). */
  readonly admission?: AdmissionLimits | undefined;
  /** How long a worker may take to prepare its next isolate after answering before it is replaced (10 s). */
  readonly idleLimitMs?: number | undefined;
}

interface RawReport {
  readonly status: "passed" | "failed";
  readonly passed: number;
  readonly total: number;
  readonly tests: TestReport[];
  readonly duration_ms: number;
}

/** What one worker managed before it died: the verdicts it sent, why it died. */
interface CrashedRun {
  readonly crashed: true;
  readonly results: ReadonlyMap<number, TestReport>;
  readonly signal: string;
}

/** A run whose workers died this many times reports its remaining tests without running them. */
const MAX_CRASHES_PER_RUN = 2;
const SYNTAX_LIMIT_MS = 10_000;

/** How often each kind of recovery happened (shown in /healthz under runtime.recoveries). */
interface Recoveries {
  crashed: number;
  stuck: number;
  undelivered: number;
  oversized_reply: number;
  not_idle: number;
  protocol: number;
}

function notRunReport(index: number, test: ExecutionJob["tests"][number], status: TestReport["status"], type: string, message: string): TestReport {
  return {
    index,
    kind: test.kind,
    ...(test.name === undefined ? {} : { name: test.name }),
    status,
    expected: null,
    actual: null,
    stdout: "",
    stderr: "",
    output_truncated: false,
    error: { type, message, line: null },
    steps: null,
    duration_ms: null,
  };
}

export class JavaScriptPool implements Executor {
  readonly languages = ["javascript"] as const;
  private readonly workers: WorkerSlots<JavaScriptWorkerProcess, JavaScriptWorkerInfo>;
  private readonly logger: Logger;
  private readonly recoveries: Recoveries = { crashed: 0, stuck: 0, undelivered: 0, oversized_reply: 0, not_idle: 0, protocol: 0 };
  private readonly workerHeapMb: number;

  private constructor(size: number, logger: Logger, workerHeapMb: number | undefined, admission: AdmissionLimits | undefined, private readonly idleLimitMs: number | undefined) {
    this.logger = logger;
    this.workerHeapMb = workerHeapMb ?? DEFAULT_WORKER_HEAP_MB;
    this.workers = new WorkerSlots<JavaScriptWorkerProcess, JavaScriptWorkerInfo>({
      size,
      logger,
      workerName: "JavaScript worker",
      admission,
      spawn: (index) =>
        new JavaScriptWorkerProcess(index, {
          heapMb: workerHeapMb,
          onStderr: (text) => logger.warn("JavaScript worker stderr", { slot: index, text: text.slice(0, 4_000) }),
        }),
    });
  }

  static async start(options: JavaScriptPoolOptions = {}): Promise<JavaScriptPool> {
    const logger = options.logger ?? consoleLogger;
    const size = options.size ?? Math.max(1, availableParallelism());
    const pool = new JavaScriptPool(size, logger, options.workerHeapMb, options.admission, options.idleLimitMs);
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
    const tests: TestReport[] = [];
    let crashes = 0;
    // Each pass runs the tests not yet reported; a worker that dies ends a pass.
    while (tests.length < job.tests.length) {
      const offset = tests.length;
      const left = job.limits.total_ms - (Date.now() - startedAt);
      if (offset > 0 && (left <= 0 || crashes >= MAX_CRASHES_PER_RUN)) {
        tests.push(...this.notRun(job, offset, left <= 0 ? "budget" : "crashes"));
        break;
      }
      const part: ExecutionJob = offset === 0 ? job : { ...job, tests: job.tests.slice(offset), limits: { ...job.limits, total_ms: left } };
      const outcome = await this.runOnWorker(part, options, startedAt);
      if (!("crashed" in outcome)) {
        if (outcome.status === "error" && offset === 0) return outcome;
        if (outcome.status === "error") {
          tests.push(...part.tests.map((test, position) => notRunReport(offset + position, test, "runtime_error", "SandboxError", outcome.error?.message ?? "the JavaScript sandbox failed")));
          break;
        }
        for (const test of outcome.tests) tests.push({ ...test, index: test.index + offset });
        if (offset === 0) return { ...outcome, tests: withTestNames(job, tests) };
        break;
      }
      crashes += 1;
      tests.push(...this.afterCrash(part, outcome, offset));
    }
    const passed = tests.filter((test) => test.status === "passed").length;
    return {
      status: passed === tests.length ? "passed" : "failed",
      language: job.language,
      passed,
      total: tests.length,
      tests: withTestNames(job, tests),
      duration_ms: Date.now() - startedAt,
    };
  }

  /** The verdicts a dead worker sent, then the test it died in (a crash), renumbered from `offset`. */
  private afterCrash(part: ExecutionJob, outcome: CrashedRun, offset: number): TestReport[] {
    const reported = [...outcome.results.values()].sort((left, right) => left.index - right.index);
    let crashedIndex = 0;
    while (outcome.results.has(crashedIndex)) crashedIndex += 1;
    const tests = reported.filter((test) => test.index < crashedIndex).map((test) => ({ ...test, index: test.index + offset }));
    const crashedTest = part.tests[crashedIndex];
    if (crashedTest !== undefined) {
      const message = `the JavaScript worker running this test died (${outcome.signal}); it was replaced`;
      tests.push(notRunReport(offset + crashedIndex, crashedTest, "runtime_error", "Crash", message));
    }
    return tests;
  }

  /** Reports for the tests from `offset` on that will not run: the budget is spent, or workers kept dying. */
  private notRun(job: ExecutionJob, offset: number, why: "budget" | "crashes"): TestReport[] {
    return job.tests.slice(offset).map((test, position) =>
      why === "budget"
        ? notRunReport(offset + position, test, "timeout", "BudgetExhausted", `not run: the run's time budget (limits.total_ms = ${job.limits.total_ms} ms) was spent before this test could start`)
        : notRunReport(offset + position, test, "runtime_error", "Crash", `not run: the JavaScript worker died ${MAX_CRASHES_PER_RUN} times during this run`),
    );
  }

  private runOnWorker(job: ExecutionJob, options: ExecuteOptions, startedAt: number): Promise<ExecutionReport | CrashedRun> {
    const signal = options.signal;
    return this.workers.enqueue<ExecutionReport | CrashedRun>(queueOptions(job, options), async (slot, resolve) => {
      const process = slot.process;
      const results = new Map<number, TestReport>();
      const onAbort = (): void => process.kill();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        const raw = (await process.run(
          { code: job.code, entry_point: job.entryPoint ?? null, tests: job.tests, trace: job.trace, limits: job.limits },
          (index, result) => results.set(index, result),
          hardLimitMs(job),
        )) as RawReport;
        resolve({
          status: raw.status,
          language: job.language,
          passed: raw.passed,
          total: raw.total,
          tests: withTestNames(job, raw.tests),
          duration_ms: raw.duration_ms,
        });
      } catch (error) {
        if (signal?.aborted) throw new AbortedError("sandbox", "the run was cancelled", { cause: error });
        resolve(await this.failedRun(slot, job, error, results, startedAt));
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
      // Hold the slot until the worker has its next isolate ready (or was killed for taking too long).
      await process.idle(this.idleLimitMs);
      if (process.killReason === "not_idle") {
        this.recoveries.not_idle += 1;
        this.logger.warn("a JavaScript worker did not become idle after answering; replaced", { slot: slot.index });
      }
    });
  }

  /** What the caller gets when a run did not complete on its worker; the details go to the log. */
  private async failedRun(
    slot: Slot<JavaScriptWorkerProcess, JavaScriptWorkerInfo>,
    job: ExecutionJob,
    error: unknown,
    results: ReadonlyMap<number, TestReport>,
    startedAt: number,
  ): Promise<ExecutionReport | CrashedRun> {
    const process = slot.process;
    const code = error instanceof SandboxError ? error.code : "sandbox_error";
    if (code === "job_not_delivered") {
      this.recoveries.undelivered += 1;
      this.logger.warn("a JavaScript job could not be handed to its worker", { slot: slot.index, error: String(error), cause: String((error as Error).cause) });
      return sandboxErrorReport(job, code, clientMessage(code), startedAt);
    }
    if (process.alive && code !== "worker_exited") {
      this.logger.warn("javascript sandbox run failed", { slot: slot.index, code, error: String(error) });
      return sandboxErrorReport(job, code, clientMessage(code), startedAt);
    }
    const exit = await process.exit;
    const reason: KillReason | undefined = process.killReason;
    this.logger.warn("a JavaScript worker died during a run; replaced", { slot: slot.index, reason: reason ?? "crash", exit, stderr: process.stderrTail() });
    if (reason === "stuck") {
      this.recoveries.stuck += 1;
      return sandboxErrorReport(job, "sandbox_stuck", clientMessage("sandbox_stuck"), startedAt);
    }
    if (reason === "oversized_reply" || reason === "protocol") {
      this.recoveries[reason] += 1;
      return sandboxErrorReport(job, "reply_too_large", clientMessage("reply_too_large"), startedAt);
    }
    this.recoveries.crashed += 1;
    return { crashed: true, results, signal: exit.signal ?? `exit code ${String(exit.code)}` };
  }

  checkSyntax(_language: "javascript", code: string, options: ExecuteOptions = {}): Promise<SyntaxCheck> {
    return this.workers.syntaxCheck(
      options,
      (worker) => worker.syntax(code, SYNTAX_LIMIT_MS),
      (worker) => worker.idle(this.idleLimitMs),
    );
  }

  /** Edits made here, in this process: acorn only parses the program, nothing of it runs. */
  edits(_language: "javascript", request: EditRequest, options: ExecuteOptions = {}): Promise<readonly Edit[]> {
    if (options.signal?.aborted) return Promise.reject(new AbortedError("sandbox", "the edits request was cancelled"));
    try {
      return Promise.resolve(javascriptEdits(request));
    } catch (error) {
      this.logger.warn("JavaScript edits failed", { error: String(error) });
      return Promise.resolve([]);
    }
  }

  admit(_language: "javascript", client: string): void {
    this.workers.admit(client);
  }

  health(): ExecutorHealth {
    const info = this.workers.firstInfo();
    return {
      ok: this.workers.healthy,
      languages: this.languages,
      isolation: {
        kind: "isolated-vm",
        features: ["fresh isolate per run", "heap limit", "timeout per call", "time budget per run", "bounded replies", "no host references", "worker process per core"],
      },
      runtime: { node: info?.node, v8: info?.v8, isolated_vm: info?.isolated_vm, tracer: "instrumented", worker_heap_mb: this.workerHeapMb, recoveries: { ...this.recoveries } },
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
