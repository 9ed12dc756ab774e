/**
 * One executor over several: each job goes to the pool of its language.
 * /healthz shows every pool; a language whose pool could not start is
 * reported there (`unavailable`) and its jobs are refused with
 * `language_unavailable` (HTTP 503), while the other languages go on.
 */
import { SandboxError } from "../shared/errors.ts";
import type { ExecutionJob, ExecutionReport, Language } from "../shared/schema/execution.ts";
import type { ExecuteOptions, Executor, ExecutorHealth, SyntaxCheck } from "./executor.ts";

const SUMMED_COUNTS = ["size", "ready", "busy", "queued", "restarts"] as const;

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

  execute(job: ExecutionJob, options?: ExecuteOptions): Promise<ExecutionReport> {
    return this.executorFor(job.language).execute(job, options);
  }

  checkSyntax(language: Language, code: string, options?: ExecuteOptions): Promise<SyntaxCheck> {
    return this.executorFor(language).checkSyntax(language, code, options);
  }

  /** The first pool's health (the Python sandbox's, as before), every pool under `pools`. */
  health(): ExecutorHealth {
    const healths = this.executors.map((executor) => executor.health());
    const first = healths[0];
    if (first === undefined) throw new SandboxError("executor_closed", "no sandbox pool is configured");
    // The counts every pool has are summed; a pool's own extras stay in `pools`.
    const workers: Record<(typeof SUMMED_COUNTS)[number], number> = { size: 0, ready: 0, busy: 0, queued: 0, restarts: 0 };
    const pools: Record<string, unknown> = {};
    for (const health of healths) {
      for (const key of SUMMED_COUNTS) workers[key] += health.workers[key];
      for (const language of health.languages) pools[language] = { ok: health.ok, isolation: health.isolation, runtime: health.runtime, workers: health.workers };
    }
    for (const [language, reason] of Object.entries(this.unavailable)) pools[language] = { ok: false, unavailable: reason };
    return {
      ok: healths.every((health) => health.ok),
      languages: this.languages,
      isolation: first.isolation,
      runtime: first.runtime,
      workers,
      pools,
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.executors.map((executor) => executor.close()));
  }
}
