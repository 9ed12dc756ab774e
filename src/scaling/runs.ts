/**
 * Runs: each solve request becomes a run that lives independently of the
 * HTTP request that started it. Its events get per-run increasing ids, go to
 * the store (for GET /v1/runs/{id}/events replay) and to live followers.
 * One AbortSignal reaches every model request and sandbox job of the run.
 */
import { randomUUID } from "node:crypto";

import { forClient } from "../sandbox/index.ts";
import { NO_USAGE } from "../policy/index.ts";
import { AbortedError, OverloadedError, TracefixError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { TERMINAL_EVENTS, type RunEvent, type RunEventPayload } from "../shared/schema/events.ts";
import type { SolveRequest, SolveResult } from "../shared/schema/solve.ts";
import { EventChannel } from "./channel.ts";
import { failedRun, runErrorOf, runStrategy } from "./run.ts";
import { usageOf, type ScalingDependencies } from "./run-context.ts";
import { resolveRun, type Policies, type RunRequest } from "./resolve.ts";
import type { Retention, RunFilter, RunStore } from "../store/index.ts";

/** A follower of another server's run re-reads the store at least this often (a lost notice costs this much). */
const STORED_FOLLOW_POLL_MS = 2_000;

export interface ActiveRun {
  readonly id: string;
  readonly done: Promise<SolveResult>;
  /** Stops the run: model requests aborted, queued sandbox work dropped. */
  cancel(reason: string): void;
}

interface LiveRun extends ActiveRun {
  readonly listeners: Set<(event: RunEvent) => void>;
}

/** What runs need: the policies a request can choose from (resolve.ts); without any, runs can still be listed, read and exported. */
export type RunDependencies = Omit<ScalingDependencies, "policy"> & { readonly policies: Policies };

export interface RunManagerOptions {
  /** Runs going at once; more are refused with 503 `too_many_runs`. */
  readonly maxRuns?: number;
  /** Sees every event every run publishes, as it is published (the server's metrics). */
  readonly onEvent?: ((event: RunEvent) => void) | undefined;
}

export interface StartOptions {
  /** Who started the run: its sandbox jobs are queued fairly under this client. */
  readonly client?: string | undefined;
}

export class RunManager {
  private readonly deps: RunDependencies;
  private readonly store: RunStore;
  private readonly logger: Logger;
  private readonly live = new Map<string, LiveRun>();
  private readonly maxRuns: number;
  private readonly onEvent: ((event: RunEvent) => void) | undefined;
  private closing = false;

  constructor(deps: RunDependencies, store: RunStore, options: RunManagerOptions = {}) {
    this.deps = deps;
    this.store = store;
    this.logger = deps.logger;
    this.maxRuns = options.maxRuns ?? 64;
    this.onEvent = options.onEvent;
  }

  get running(): number {
    return this.live.size;
  }

  /** Where runs are kept (the store's own account). */
  get storeDescription(): string {
    return this.store.description;
  }

  get modelConfigured(): boolean {
    return this.deps.policies.llm !== undefined;
  }

  /** The run's request and dependencies, or why it cannot start. */
  private prepare(solve: SolveRequest, client: string | undefined): { request: RunRequest; deps: ScalingDependencies } {
    const { request, policy } = resolveRun(solve, this.deps.policies, this.deps.agent !== undefined);
    if (this.closing) throw new OverloadedError("too_many_runs", "scaling", "the server is shutting down", 5);
    if (this.live.size >= this.maxRuns) {
      throw new OverloadedError("too_many_runs", "scaling", `${this.maxRuns} runs are going; retry when one ends`, 5);
    }
    const executor = client === undefined ? this.deps.executor : forClient(this.deps.executor, client);
    return { request, deps: { ...this.deps, policy, executor } };
  }

  start(solve: SolveRequest, options: StartOptions = {}): ActiveRun {
    const { request, deps } = this.prepare(solve, options.client);
    const id = `run_${randomUUID().replaceAll("-", "").slice(0, 20)}`;
    const controller = new AbortController();
    const listeners = new Set<(event: RunEvent) => void>();
    const created = this.store.create(id, { strategy: request.strategy, policy: request.policy, language: request.problem.language });
    const done = this.drive(id, request, deps, controller, listeners, created);
    const run: LiveRun = {
      id,
      done,
      listeners,
      cancel: (reason) => {
        if (!controller.signal.aborted) controller.abort(new AbortedError("scaling", reason));
      },
    };
    this.live.set(id, run);
    void done.finally(() => this.live.delete(id));
    return run;
  }

  /**
   * Runs the strategy, stores and publishes its events, stores its result.
   * Never rejects: a store that fails stops the run (its followers still get
   * the events in memory) and is logged once; it does not take the server down.
   */
  private async drive(
    id: string,
    request: RunRequest,
    deps: ScalingDependencies,
    controller: AbortController,
    listeners: Set<(event: RunEvent) => void>,
    created: Promise<void>,
  ): Promise<SolveResult> {
    let storeError: TracefixError | undefined;
    const keep = async (work: () => Promise<void>): Promise<void> => {
      try {
        await work();
      } catch (error) {
        if (storeError !== undefined) return;
        storeError = new TracefixError("store_unavailable", "store", `the run store failed: ${(error as Error).message}`, { runId: id, cause: error });
        this.logger.error("run store failed: the run is stopped", { run_id: id, error: String(error) });
        controller.abort(storeError);
      }
    };
    let next = 1;
    const publish = async (payload: RunEventPayload): Promise<void> => {
      const event = { ...payload, id: next++, run_id: id, time: new Date().toISOString() } as RunEvent;
      await keep(() => this.store.append(id, event));
      for (const listener of listeners) listener(event);
      this.onEvent?.(event);
    };
    await keep(() => created);
    if (storeError !== undefined) {
      const failed = failedRun(id, runErrorOf(storeError, false), usageOf(NO_USAGE, 0, 0), [], false);
      await publish(failed.event);
      return failed.result;
    }
    const strategy = runStrategy({ runId: id, request, signal: controller.signal }, deps);
    let result: SolveResult;
    try {
      for (;;) {
        const step = await strategy.next();
        if (step.done === true) {
          result = step.value;
          break;
        }
        await publish(step.value);
      }
    } catch (error) {
      // A strategy reports its own failures; reaching here is a bug, still reported as an event.
      this.logger.error("run crashed", { run_id: id, error: String(error), stack: (error as Error).stack });
      const failed = failedRun(id, runErrorOf(error, false), usageOf(NO_USAGE, 0, 0), [], false);
      await publish(failed.event);
      result = failed.result;
    }
    const finalResult = result;
    await keep(() => this.store.finish(id, finalResult));
    return result;
  }

  /**
   * The run's events after `afterId`: the stored ones, then live ones as they
   * happen, until the run ends or the follower stops iterating. A run another
   * server is driving (a shared store) is followed through the store.
   */
  async *follow(runId: string, afterId: number, signal?: AbortSignal): AsyncGenerator<RunEvent> {
    const run = this.live.get(runId);
    if (run === undefined && this.store.watch !== undefined) {
      yield* this.followStored(runId, afterId, signal);
      return;
    }
    const incoming = new EventChannel<RunEvent>();
    const listener = (event: RunEvent): void => incoming.push(event);
    // Listen before reading the store, so no event falls between the two.
    run?.listeners.add(listener);
    try {
      let last = afterId;
      for (const event of await this.store.events(runId, afterId)) {
        yield event;
        last = event.id;
        if (TERMINAL_EVENTS.includes(event.type)) return;
      }
      if (run === undefined) return;
      for await (const event of incoming.drain(run.done, signal)) {
        if (event.id <= last) continue;
        yield event;
        last = event.id;
        if (TERMINAL_EVENTS.includes(event.type)) return;
      }
    } finally {
      run?.listeners.delete(listener);
    }
  }

  /**
   * Reads the store each time it says the run has new events (and every
   * STORED_FOLLOW_POLL_MS in case a notice was lost), until its terminal
   * event: each event once, in order, whichever server writes them.
   */
  private async *followStored(runId: string, afterId: number, signal?: AbortSignal): AsyncGenerator<RunEvent> {
    let wake: (() => void) | undefined;
    let poked = false;
    const poke = (): void => {
      poked = true;
      wake?.();
    };
    const stop = await (this.store.watch as NonNullable<RunStore["watch"]>)(runId, poke);
    signal?.addEventListener("abort", poke, { once: true });
    try {
      let last = afterId;
      for (;;) {
        poked = false;
        for (const event of await this.store.events(runId, last)) {
          yield event;
          last = event.id;
          if (TERMINAL_EVENTS.includes(event.type)) return;
        }
        const summary = await this.store.summary(runId);
        if (signal?.aborted === true || summary === undefined || (summary.status !== "running" && summary.last_event_id <= last)) return;
        if (!poked) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, STORED_FOLLOW_POLL_MS).unref();
          });
          wake = undefined;
        }
      }
    } finally {
      signal?.removeEventListener("abort", poke);
      stop();
    }
  }

  /**
   * Ends, as failed with `server_restarted`, the runs the store holds as
   * running whose server is gone (this one, before a restart): a terminal
   * event their followers see, and a summary that no longer says running.
   */
  async recoverOrphans(): Promise<number> {
    let recovered = 0;
    for (const runId of await this.store.orphans()) {
      if (this.live.has(runId)) continue;
      const summary = await this.store.summary(runId);
      if (summary === undefined || summary.status !== "running") continue;
      const error = { code: "server_restarted" as const, stage: "store", message: "the server running this run stopped before the run ended" };
      const failed = failedRun(runId, error, usageOf(NO_USAGE, 0, 0), [], false);
      const event = { ...failed.event, id: summary.last_event_id + 1, run_id: runId, time: new Date().toISOString() } as RunEvent;
      try {
        await this.store.append(runId, event);
      } catch {
        continue; // another server ended it first (the event id is taken)
      }
      await this.store.finish(runId, failed.result);
      recovered += 1;
    }
    if (recovered > 0) this.logger.warn(`run store: ${recovered} run(s) left running by a stopped server marked failed (server_restarted)`);
    return recovered;
  }

  /** Deletes finished runs past the retention. */
  prune(retention: Retention): Promise<number> {
    return this.store.prune(retention);
  }

  /** Deletes a finished run; a running one is refused (409), an unknown one is false. */
  async delete(runId: string): Promise<boolean> {
    const summary = await this.store.summary(runId);
    if (summary === undefined) return false;
    if (summary.status === "running") {
      throw new TracefixError("run_not_finished", "store", "the run is still going: it can be deleted once it ends", { runId });
    }
    return this.store.delete(runId);
  }

  summary(runId: string): ReturnType<RunStore["summary"]> {
    return this.store.summary(runId);
  }

  list(filter?: RunFilter): ReturnType<RunStore["list"]> {
    return this.store.list(filter);
  }

  /** Every kept event of a run (a finished run's whole log). */
  events(runId: string): ReturnType<RunStore["events"]> {
    return this.store.events(runId, 0);
  }

  /**
   * Stops the server's runs: those going get `graceMs` to finish, then are
   * cancelled (ending as `cancelled`); new ones are refused meanwhile.
   */
  async close(graceMs = 0): Promise<void> {
    this.closing = true;
    const runs = [...this.live.values()];
    const finished = Promise.allSettled(runs.map((run) => run.done));
    if (graceMs > 0 && runs.length > 0) {
      this.logger.info(`waiting up to ${graceMs} ms for ${runs.length} run(s) to finish`);
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    }
    for (const run of this.live.values()) run.cancel("the server is shutting down");
    await finished;
  }
}
