/**
 * The executor seam: something that runs one program against its tests and
 * returns an execution report: the Python pool, the JavaScript pool, the
 * router over both; remote workers would be one more implementation.
 */
import type { Edit, EditRequest } from "../shared/schema/edits.ts";
import type { ExecutionJob, ExecutionReport, Language } from "../shared/schema/execution.ts";

export interface ExecuteOptions {
  /** Aborting drops the job if it is still queued and stops it if it runs. */
  readonly signal?: AbortSignal | undefined;
  /** Who the work is for: jobs are queued fairly per client (architecture/sandbox.md, "Admission"). */
  readonly client?: string | undefined;
  /** Reject with `sandbox_busy` (503) when the job has not started within this time. */
  readonly queueTimeoutMs?: number | undefined;
}

/**
 * The longest a job can take: every test to its limit, a traced re-run of
 * up to `trace.max_tests` of them (about 1.5× the limit each, at most), all
 * within the run's own `total_ms`. A job that lacks its settings (it reaches
 * the sandbox unvalidated, and the sandbox will say so) counts as a minute.
 */
export function worstCaseMs(job: ExecutionJob): number {
  const timeout = job.limits?.timeout_ms;
  const total = job.limits?.total_ms;
  if (typeof timeout !== "number" || typeof total !== "number" || !Array.isArray(job.tests)) return 60_000;
  const traced = job.trace?.mode === "none" ? 0 : Math.min(job.tests.length, job.trace?.max_tests ?? 3);
  return Math.min(total, Math.max(1, job.tests.length) * timeout + traced * timeout * 0.5);
}

export interface WorkerCounts {
  readonly size: number;
  readonly ready: number;
  readonly busy: number;
  readonly queued: number;
  readonly restarts: number;
  /** Workers replaced because they failed a canary run after a harness-level failure (Python). */
  readonly broken_restarts?: number;
  /** Workers replaced, by why (Python): exited, stuck, broken, reply_too_large, cleanup_failed. */
  readonly restarts_by_reason?: Record<string, number>;
  /** Run processes the kernel killed for passing their run's memory cgroup limit (Python). */
  readonly oom_kills?: number;
}

export interface ExecutorHealth {
  readonly ok: boolean;
  readonly languages: readonly Language[];
  readonly isolation: {
    readonly kind: string;
    readonly features: readonly string[];
    readonly fallback_reason?: string;
    /** Python: each run in its own user + pid + IPC + mount namespace. */
    readonly run_namespaces?: boolean;
    /** Python: each run on a tmpfs of its own at /tmp and /dev/shm. */
    readonly run_tmpfs?: boolean;
    /** Python: how a run's processes are ended (pid-namespace, uid-sweep, process-group). */
    readonly kill?: string;
    /** Python: how a run's memory is bounded as a whole (cgroup-v1, cgroup-v2, accounting). */
    readonly memory?: string;
    readonly memory_fallback_reason?: string;
  };
  readonly runtime: Record<string, unknown>;
  readonly workers: WorkerCounts;
  /** Per language, when several pools serve (SandboxRouter). */
  readonly pools?: Record<string, unknown>;
}

export type SyntaxCheck = { readonly ok: true } | { readonly ok: false; readonly message: string; readonly line: number | null };

export interface Executor {
  readonly languages: readonly Language[];
  /**
   * Runs the job. Resolves with a report whose status is `error` when the
   * sandbox itself failed; rejects only when the caller aborted.
   */
  execute(job: ExecutionJob, options?: ExecuteOptions): Promise<ExecutionReport>;
  /**
   * Throws OverloadedError (429/503 with a retry delay) when new work of
   * `client` in `language` would not be taken now; HTTP routes ask before
   * they start.
   */
  admit(language: Language, client: string): void;
  /** Does the program compile? (Used to tell a program from prose in an unfenced model reply.) */
  checkSyntax(language: Language, code: string, options?: ExecuteOptions): Promise<SyntaxCheck>;
  /**
   * Small edits of the program at the request's sites, on its syntax tree
   * (the repair search's candidates; src/shared/schema/edits.ts). Resolves
   * [] when the program does not parse or the sandbox could not answer;
   * rejects only on abort.
   */
  edits(language: Language, request: EditRequest, options?: ExecuteOptions): Promise<readonly Edit[]>;
  health(): ExecutorHealth;
  close(): Promise<void>;
}

/** The same executor, with every job queued under `client` (a run's work is its client's). */
export function forClient(executor: Executor, client: string): Executor {
  return {
    languages: executor.languages,
    execute: (job, options) => executor.execute(job, { ...options, client }),
    admit: (language) => executor.admit(language, client),
    checkSyntax: (language, code, options) => executor.checkSyntax(language, code, { ...options, client }),
    edits: (language, request, options) => executor.edits(language, request, { ...options, client }),
    health: () => executor.health(),
    close: () => executor.close(),
  };
}
