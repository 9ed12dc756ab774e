/**
 * A warm pool of Python fork servers (default: one per core), on the shared
 * WorkerSlots (queue, restarts). A job that outlives every limit it was
 * given is stopped by killing its worker. Aborting a job drops it from the
 * queue or cancels it in its worker.
 *
 * A worker that fails a run in a way no program can cause (its child never
 * started, the harness raised) is checked with a trivial canary run right
 * away, on the same slot; one that fails the canary is replaced. Every
 * replacement is counted by reason in /healthz.
 */
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { AbortedError, SandboxError } from "../../shared/errors.ts";
import { consoleLogger, type Logger } from "../../shared/logger.ts";
import type { Edit, EditRequest } from "../../shared/schema/edits.ts";
import type { ExecutionJob, ExecutionReport, TestReport } from "../../shared/schema/execution.ts";
import type { ExecuteOptions, Executor, ExecutorHealth, SyntaxCheck } from "../executor.ts";
import { clientMessage, hardLimitMs, queueOptions, sandboxErrorReport, withTestNames, WorkerSlots, type AdmissionLimits, type Slot } from "../worker-pool.ts";
import { detectCgroups, type WorkerCgroups } from "./cgroup.ts";
import { ForkServerProcess, type ForkServerInfo } from "./fork-server.ts";
import { copyHarness, type HarnessCopy } from "./harness-copy.ts";
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
  /** Where forkserver.py and tracefix_harness/ are (default: this checkout's sandbox/python); copied at start. */
  readonly harnessDirectory?: string | undefined;
  /** Per-run namespaces (default true); false runs the fallback the kernel would otherwise decide on. */
  readonly runNamespaces?: boolean | undefined;
  /** A tmpfs of each run's own where the kernel allows (default true); false runs the fallback for a kernel that refuses it. */
  readonly runTmpfs?: boolean | undefined;
  /** Memory cgroups where this server can manage them (default true); false: per-run accounting. */
  readonly cgroups?: boolean | undefined;
  /** Queue bounds (architecture/sandbox.md, "Admission"). */
  readonly admission?: AdmissionLimits | undefined;
}

/** The harness's share of a run cgroup's limit, on top of the job's memory_mb and its output. */
const RUN_CGROUP_SLACK_BYTES = 32 << 20;
const CANARY_TIMEOUT_MS = 10_000;
const LIMIT_ATTEMPTS = 100;
const CANARY = {
  code: "def identity(x):\n    return x\n",
  entry_point: "identity",
  tests: [{ kind: "call", args: [1], expected: 1 }],
  trace: { mode: "none" },
  limits: { timeout_ms: 2_000, memory_mb: 256, output_bytes: 65_536, total_ms: 5_000 },
};

interface RawReport {
  status: "passed" | "failed";
  passed: number;
  total: number;
  tests: TestReport[];
  duration_ms: number;
  harness_failures?: number;
  oom_kills?: number;
}

export class PythonPool implements Executor {
  readonly languages = ["python"] as const;
  readonly interpreter: PythonInterpreter;
  readonly isolation: IsolationPlan;
  private readonly workers: WorkerSlots<ForkServerProcess, ForkServerInfo>;
  private readonly logger: Logger;
  private readonly cgroups: WorkerCgroups | undefined;
  private readonly harness: HarnessCopy;
  /** Workers replaced, by why: `exited` (on their own), `stuck`, `broken`, `reply_too_large`, `cleanup_failed`. */
  private readonly restartsByReason: Record<string, number> = {};
  private oomKills = 0;

  private constructor(interpreter: PythonInterpreter, isolation: IsolationPlan, size: number, logger: Logger, cgroups: WorkerCgroups | undefined, harness: HarnessCopy, admission: AdmissionLimits | undefined) {
    this.interpreter = interpreter;
    this.isolation = isolation;
    this.logger = logger;
    this.cgroups = cgroups;
    this.harness = harness;
    this.workers = new WorkerSlots<ForkServerProcess, ForkServerInfo>({
      size,
      logger,
      workerName: "Python fork server",
      admission,
      spawn: (index) => this.spawnWorker(index),
    });
  }

  static async start(options: PythonPoolOptions = {}): Promise<PythonPool> {
    const logger = options.logger ?? consoleLogger;
    const interpreter = await findInterpreter(options.python);
    const harness = copyHarness(options.harnessDirectory ?? HARNESS_DIRECTORY);
    const detection = options.cgroups === false ? { reason: "disabled by configuration" } : detectCgroups();
    const isolation = await planIsolation({
      interpreter,
      harnessDirectory: harness.directory,
      prefer: options.isolation ?? "auto",
      runNamespaces: options.runNamespaces !== false,
      runTmpfs: options.runTmpfs !== false,
      cgroups: detection.cgroups,
      cgroupReason: detection.reason,
      ...(options.uidBase === undefined ? {} : { uidBase: options.uidBase }),
    }).catch((error: unknown) => {
      harness.remove();
      throw error;
    });
    const size = options.size ?? Math.max(1, availableParallelism());
    const pool = new PythonPool(interpreter, isolation, size, logger, detection.cgroups, harness, options.admission);
    if (!(await pool.workers.started())) {
      await pool.close();
      throw new SandboxError("worker_start_failed", "no Python fork server started; see the errors above");
    }
    pool.logStart(size);
    return pool;
  }

  private logStart(size: number): void {
    const info = this.workers.firstInfo();
    const fields = {
      python: this.interpreter.version.join("."),
      executable: this.interpreter.executable,
      tracer: info?.tracer,
      workers: size,
      run_namespaces: info?.run_namespaces,
      memory: info?.memory,
      ...(this.isolation.memoryReason === undefined ? {} : { memory_fallback_reason: this.isolation.memoryReason }),
    };
    if (this.isolation.kind === "bwrap") {
      this.logger.info(`python sandbox: bubblewrap (${this.isolation.features.join(", ")})`, fields);
    } else {
      this.logger.warn(
        `python sandbox: NOT isolated by bubblewrap (${this.isolation.fallbackReason ?? "unknown reason"}); running with ${this.isolation.features.join(", ")} only`,
        fields,
      );
    }
  }

  private spawnWorker(index: number): ForkServerProcess {
    this.cgroups?.worker(index).forgetLimit();
    const worker = new ForkServerProcess(index, this.isolation.launch(index), this.logger);
    void worker.exit.then(() => this.countExit(worker));
    return worker;
  }

  private countExit(worker: ForkServerProcess): void {
    if (this.workers.closed) return;
    const reason = worker.killReason ?? "exited";
    this.restartsByReason[reason] = (this.restartsByReason[reason] ?? 0) + 1;
    this.logger.warn("a Python fork server ended and is being replaced", { slot: worker.slot, reason, stderr: worker.stderrTail() });
  }

  execute(job: ExecutionJob, options: ExecuteOptions = {}): Promise<ExecutionReport> {
    const signal = options.signal;
    return this.workers.enqueue<ExecutionReport>(queueOptions(job, options), async (slot, resolve) => {
      resolve(await this.runOn(slot, job, signal));
    });
  }

  /** One job on one worker; a sandbox failure becomes an `error` report, never an exception. */
  private async runOn(slot: Slot<ForkServerProcess, ForkServerInfo>, job: ExecutionJob, signal: AbortSignal | undefined): Promise<ExecutionReport> {
    const startedAt = Date.now();
    const worker = slot.process;
    await this.limitRunMemory(slot.index, job);
    const watchdog = setTimeout(() => worker.kill("stuck"), hardLimitMs(job));
    try {
      const raw = (await worker.run(
        { code: job.code, entry_point: job.entryPoint ?? null, tests: job.tests, trace: job.trace, limits: job.limits },
        signal,
      )) as RawReport;
      this.oomKills += raw.oom_kills ?? 0;
      if ((raw.harness_failures ?? 0) > 0) await this.checkWorker(worker, "a run failed before any of its program ran");
      return this.toReport(job, raw);
    } catch (error) {
      if (signal?.aborted) throw new AbortedError("sandbox", "the run was cancelled", { cause: error });
      if (worker.killReason === "stuck") {
        return sandboxErrorReport(job, "sandbox_stuck", clientMessage("sandbox_stuck"), startedAt);
      }
      return this.failedRun(slot, worker, job, error, startedAt);
    } finally {
      clearTimeout(watchdog);
    }
  }

  private async failedRun(slot: Slot<ForkServerProcess, ForkServerInfo>, worker: ForkServerProcess, job: ExecutionJob, error: unknown, startedAt: number): Promise<ExecutionReport> {
    const code = error instanceof SandboxError ? error.code : "sandbox_error";
    this.logger.warn("sandbox run failed", { slot: slot.index, code, error: String(error), stderr: worker.stderrTail() });
    if (code === "harness_error") await this.checkWorker(worker, "the harness failed");
    return sandboxErrorReport(job, code, clientMessage(code), startedAt);
  }

  /** Can the worker still run a trivial program? If not, it is replaced (counted as `broken`). */
  private async checkWorker(worker: ForkServerProcess, why: string): Promise<void> {
    if (!worker.alive) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), CANARY_TIMEOUT_MS);
    });
    const outcome = await Promise.race([worker.run(CANARY, undefined).then((raw) => (raw as RawReport).status, () => "failed"), timeout]);
    clearTimeout(timer);
    if (outcome === "passed") return;
    this.logger.error("a Python fork server failed its canary run; replacing it", { slot: worker.slot, why, outcome, stderr: worker.stderrTail() });
    worker.kill("broken");
  }

  /**
   * The run cgroup's limit for this job: its memory, its output, and a little
   * for the harness. The kernel refuses a limit below what the cgroup holds,
   * and the previous run's shared memory is freed a moment after its
   * namespaces die: the job waits for that (a second at most).
   */
  private async limitRunMemory(slot: number, job: ExecutionJob): Promise<void> {
    if (this.cgroups === undefined) return;
    const cgroup = this.cgroups.worker(slot);
    const bytes = job.limits.memory_mb * (1 << 20) + job.limits.output_bytes + RUN_CGROUP_SLACK_BYTES;
    for (let attempt = 0; attempt < LIMIT_ATTEMPTS; attempt++) {
      if (cgroup.setLimit(bytes)) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.logger.warn("could not lower a run's memory limit: the run cgroup still holds more", { slot, bytes, usage: cgroup.usage() });
  }

  checkSyntax(_language: "python", code: string, options: ExecuteOptions = {}): Promise<SyntaxCheck> {
    return this.workers.syntaxCheck(options, (worker) => worker.syntax(code));
  }

  /** Edits made in a throwaway child of a fork server (tracefix_harness/edits.py), checked against the schema. */
  edits(_language: "python", request: EditRequest, options: ExecuteOptions = {}): Promise<readonly Edit[]> {
    return this.workers.edits(options, (worker) => worker.edits(request));
  }

  private toReport(job: ExecutionJob, raw: RawReport): ExecutionReport {
    const tests = withTestNames(job, raw.tests);
    return {
      status: raw.status,
      language: job.language,
      passed: raw.passed,
      total: raw.total,
      tests,
      duration_ms: raw.duration_ms,
    };
  }

  admit(_language: "python", client: string): void {
    this.workers.admit(client);
  }

  health(): ExecutorHealth {
    const info = this.workers.firstInfo();
    const counts = this.workers.counts();
    return {
      ok: this.workers.healthy,
      languages: this.languages,
      isolation: {
        kind: this.isolation.kind,
        features: this.isolation.features,
        ...(this.isolation.fallbackReason === undefined ? {} : { fallback_reason: this.isolation.fallbackReason }),
        run_namespaces: info?.run_namespaces ?? false,
        run_tmpfs: info?.run_tmpfs ?? false,
        kill: info?.kill ?? "unknown",
        memory: info?.memory ?? "unknown",
        ...(this.isolation.memoryReason === undefined || info?.memory !== "accounting" ? {} : { memory_fallback_reason: this.isolation.memoryReason }),
      },
      runtime: {
        python: this.interpreter.version.join("."),
        executable: this.interpreter.executable,
        tracer: info?.tracer,
        nested_namespaces: info?.nested_namespaces,
      },
      workers: {
        ...counts,
        broken_restarts: this.restartsByReason["broken"] ?? 0,
        restarts_by_reason: { ...this.restartsByReason },
        oom_kills: this.oomKills,
      },
    };
  }

  /** Pids of the fork server processes (for tests that check nothing is left behind). */
  workerPids(): number[] {
    return this.workers.pids();
  }

  async close(): Promise<void> {
    await this.workers.close();
    await this.cgroups?.remove();
    this.harness.remove();
  }
}
