/**
 * One executor over several: each job goes to the pool of its language.
 * /healthz shows every pool; a language whose pool could not start is
 * reported there (`unavailable`) and its jobs are refused with
 * `language_unavailable` (HTTP 503), while the other languages go on.
 */
import { SandboxError } from "../shared/errors.ts";
import type { Edit, EditRequest } from "../shared/schema/edits.ts";
import type { ExecutionJob, ExecutionReport, Language } from "../shared/schema/execution.ts";
import type { ExecuteOptions, Executor, ExecutorHealth, SyntaxCheck } from "./executor.ts";

/** `start()`'s promise, or its synchronous throw as a rejection. */
function rejecting<Result>(start: () => Promise<Result>): Promise<Result> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error);
  }
}

export class SandboxRouter implements Executor {
  readonly languages: readonly Language[];
  private readonly byLanguage = new Map<Language, Executor>();
  private readonly executors: readonly Executor[];
  private readonly unavailable: Partial<Record<Language, string>>;

  /** `unavailable`: languages that could not start, with the reason (shown in /healthz and in the refusal). */
  constructor(executors: readonly Executor[], unavailable: Partial<Record<Language, string>> = {}) {
    this.executors = executors;
    this.unavailable = unavailable;
    for (const executor of executors) for (const language of executor.languages) this.byLanguage.set(language, executor);
    this.languages = [...this.byLanguage.keys()];
  }

  private executorFor(language: Language): Executor {
    const executor = this.byLanguage.get(language);
    if (executor === undefined) {
      const reason = this.unavailable[language];
      throw new SandboxError("language_unavailable", `this server cannot run ${language}${reason === undefined ? "" : `: ${reason}`}`);
    }
    return executor;
  }

  // The executor seam rejects, never throws: an unavailable language is a rejected promise.
  execute(job: ExecutionJob, options?: ExecuteOptions): Promise<ExecutionReport> {
    return rejecting(() => this.executorFor(job.language).execute(job, options));
  }

  admit(language: Language, client: string): void {
    this.executorFor(language).admit(language, client);
  }

  checkSyntax(language: Language, code: string, options?: ExecuteOptions): Promise<SyntaxCheck> {
    return rejecting(() => this.executorFor(language).checkSyntax(language, code, options));
  }

  /** A language without a pool has no edits: the seam rejects edits only on abort. */
  edits(language: Language, request: EditRequest, options?: ExecuteOptions): Promise<readonly Edit[]> {
    const executor = this.byLanguage.get(language);
    if (executor === undefined) return Promise.resolve([]);
    return rejecting(() => executor.edits(language, request, options));
  }

  /**
   * The first pool's health at the top (the Python sandbox's: its
   * isolation, runtime and workers, as TRACEFIX_SANDBOX_WORKERS sets them),
   * every pool under `pools`; ok only when every pool is.
   */
  health(): ExecutorHealth {
    const healths = this.executors.map((executor) => executor.health());
    const first = healths[0];
    if (first === undefined) throw new SandboxError("executor_closed", "no sandbox pool is configured");
    const pools: Record<string, unknown> = {};
    for (const health of healths) {
      for (const language of health.languages) pools[language] = { ok: health.ok, isolation: health.isolation, runtime: health.runtime, workers: health.workers };
    }
    for (const [language, reason] of Object.entries(this.unavailable)) pools[language] = { ok: false, unavailable: reason };
    return { ok: healths.every((health) => health.ok), languages: this.languages, isolation: first.isolation, runtime: first.runtime, workers: first.workers, pools };
  }

  async close(): Promise<void> {
    await Promise.all(this.executors.map((executor) => executor.close()));
  }
}
