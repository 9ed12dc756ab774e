/**
 * The part every sandbox pool shares, whatever runs in its workers (Python
 * fork servers, JavaScript isolate workers): a fixed set of slots, each
 * holding one worker process; work queued per client and handed out fairly
 * (fair-queue.ts) to the longest-idle worker; admission control (bounded
 * queues, refusal when the wait would be too long); a worker that dies is
 * replaced (more slowly when it keeps dying); aborting drops queued work.
 */
import { AbortedError, OverloadedError, SandboxError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { Edit } from "../shared/schema/edits.ts";
import type { ExecutionJob } from "../shared/schema/execution.ts";
import { worstCaseMs, type ExecuteOptions, type SyntaxCheck, type WorkerCounts } from "./executor.ts";
import { FairQueue } from "./fair-queue.ts";

/** What the pool needs of a worker process. */
export interface PoolProcess<Info> {
  readonly ready: Promise<Info>;
  readonly exit: Promise<unknown>;
  readonly alive: boolean;
  readonly pid: number | undefined;
  kill(): void;
}

/** The job a busy slot runs: who asked, since when, how long it may take at worst. */
interface Occupant {
  readonly client: string;
  readonly startedAt: number;
  readonly worstCaseMs: number;
}

export interface Slot<Process extends PoolProcess<Info>, Info> {
  readonly index: number;
  process: Process;
  state: "starting" | "idle" | "busy" | "dead";
  info: Info | undefined;
  recentExits: number[];
  /** When the slot last became idle: the longest-idle worker is the readiest (it had time to prepare its next run). */
  idleSince: number;
  occupant: Occupant | undefined;
}

interface QueuedTask<Process extends PoolProcess<Info>, Info> {
  readonly client: string;
  readonly worstCaseMs: number;
  readonly signal: AbortSignal | undefined;
  readonly perform: (slot: Slot<Process, Info>) => Promise<void>;
  readonly reject: (error: Error) => void;
  readonly onAbort: () => void;
  expiry: ReturnType<typeof setTimeout> | undefined;
}

/** Bounds of the queue; see architecture/sandbox.md, "Admission". */
export interface AdmissionLimits {
  /** Jobs one client may have queued or running at once (more: 429). */
  readonly perClient: number;
  /** Jobs queued over all clients (more: 503). */
  readonly queued: number;
  /** A job that would wait longer than this behind other clients' work is refused (503). */
  readonly maxWaitMs: number;
}

export const DEFAULT_ADMISSION: AdmissionLimits = { perClient: 32, queued: 1_024, maxWaitMs: 2_500 };

/** Clients whose typical job duration is remembered (the least recently seen are forgotten first). */
const REMEMBERED_CLIENTS = 1_000;

export interface EnqueueOptions {
  readonly signal?: AbortSignal | undefined;
  /** The fair-queuing key (the HTTP client, or the client that started a run). */
  readonly client?: string | undefined;
  /** The most the job can take (limits); used to estimate waits. */
  readonly worstCaseMs?: number | undefined;
  /**
   * Give up, with a 503, when the job has not started within this time
   * (HTTP requests waiting for a worker). Only a client with nothing else
   * queued or running is held to it: one that queued work of its own waits
   * for it, within its per-client bound.
   */
  readonly queueTimeoutMs?: number | undefined;
}

export const INTERNAL_CLIENT = "internal";

/**
 * What a client is told when the sandbox itself failed, per code: stable
 * and plain. The details (which may name host paths, or carry a stack)
 * go to the server's log only.
 */
const CLIENT_MESSAGES: Readonly<Record<string, string>> = {
  sandbox_stuck: "the sandbox did not finish within the run's time budget and was restarted",
  reply_too_large: "the run's reply passed the sandbox's size limit; the worker was restarted",
  worker_exited: "the sandbox worker ended during the run and was restarted",
  job_not_delivered: "the job could not be handed to the sandbox (a value nested too deeply?)",
  unserializable_request: "the request could not be handed to the sandbox (a value nested too deeply?)",
  malformed_request: "the sandbox could not read this request (a value nested too deeply?)",
  harness_error: "the sandbox failed to run this program (details are in the server's log)",
};

export function clientMessage(code: string): string {
  return CLIENT_MESSAGES[code] ?? "the sandbox failed (details are in the server's log)";
}

/** After a run's own budget: killing, reaping and the reply. */
export const HARD_LIMIT_SLACK_MS = 3_000;

/**
 * How long a job may hold its worker before the worker is presumed stuck
 * and killed: the run's whole budget (the sandbox ends every run within
 * it) plus the slack.
 */
export function hardLimitMs(job: ExecutionJob): number {
  return job.limits.total_ms + HARD_LIMIT_SLACK_MS;
}

/** The report's tests with the names the job gave them (the sandbox knows tests by index). */
export function withTestNames<Test extends { readonly index: number }>(job: ExecutionJob, tests: readonly Test[]): (Test & { name?: string })[] {
  return tests.map((test) => {
    const name = job.tests[test.index]?.name;
    return name === undefined ? test : { ...test, name };
  });
}

/** How a pool queues one job of an executor call. */
export function queueOptions(job: ExecutionJob, options: ExecuteOptions): EnqueueOptions {
  return { signal: options.signal, client: options.client, worstCaseMs: worstCaseMs(job), queueTimeoutMs: options.queueTimeoutMs };
}

export interface WorkerSlotsOptions<Process> {
  readonly size: number;
  readonly spawn: (index: number) => Process;
  readonly logger: Logger;
  /** Used in log lines, e.g. "Python fork server". */
  readonly workerName: string;
  readonly admission?: AdmissionLimits | undefined;
}

export class WorkerSlots<Process extends PoolProcess<Info>, Info> {
  readonly slots: Slot<Process, Info>[] = [];
  private readonly queue = new FairQueue<QueuedTask<Process, Info>>();
  private readonly options: WorkerSlotsOptions<Process>;
  private readonly admission: AdmissionLimits;
  /** Per client, how long its jobs have been taking (moving average, ms): waits are estimated from it. */
  private readonly typicalMs = new Map<string, number>();
  restarts = 0;
  closed = false;

  constructor(options: WorkerSlotsOptions<Process>) {
    this.options = options;
    this.admission = options.admission ?? DEFAULT_ADMISSION;
    for (let index = 0; index < options.size; index++) {
      this.slots.push({ index, process: this.spawn(index), state: "starting", info: undefined, recentExits: [], idleSince: 0, occupant: undefined });
    }
  }

  /** Resolves when every worker started or failed to; true when at least one runs. */
  async started(): Promise<boolean> {
    const started = await Promise.all(this.slots.map((slot) => this.awaitReady(slot)));
    return started.some(Boolean);
  }

  private spawn(index: number): Process {
    const process = this.options.spawn(index);
    void process.exit.then(() => this.onExit(index, process));
    return process;
  }

  private async awaitReady(slot: Slot<Process, Info>): Promise<boolean> {
    const process = slot.process;
    try {
      slot.info = await process.ready;
    } catch (error) {
      this.options.logger.error(`a ${this.options.workerName} did not start`, { slot: slot.index, error: String(error) });
      return false;
    }
    if (slot.process === process && slot.state === "starting") {
      slot.state = "idle";
      this.dispatch();
    }
    return true;
  }

  private onExit(index: number, process: Process): void {
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

  /**
   * Refuses, before any work is queued, what the pool will not take now: a
   * client over its share (429), a full queue, or a wait behind other
   * clients' jobs longer than the limit (503). Both say when to retry.
   */
  admit(client: string): void {
    const limits = this.admission;
    if (this.queue.load(client) >= limits.perClient) {
      const retry = this.retryAfter(this.estimateWait(client));
      throw new OverloadedError("too_many_requests", "sandbox", `this client already has ${limits.perClient} sandbox jobs queued or running; retry in ${retry} s`, retry);
    }
    if (this.queue.size >= limits.queued) {
      const retry = this.retryAfter(this.estimateWait(client));
      throw new OverloadedError("sandbox_busy", "sandbox", `the sandbox queue is full (${limits.queued} jobs); retry in ${retry} s`, retry);
    }
    // A client with work of its own in the queue waits for it by choice; the per-client bound holds it.
    if (this.queue.load(client) > 0) return;
    const wait = this.estimateWait(client);
    if (wait > limits.maxWaitMs) {
      const retry = this.retryAfter(wait);
      throw new OverloadedError("sandbox_busy", "sandbox", `every sandbox worker is busy with long jobs for about ${retry} s more; retry then`, retry);
    }
  }

  /**
   * How long a job is expected to take: as long as its client's jobs have
   * been taking, never more than its worst case; a job running past that is
   * expected to go on to its worst case (a client that was fast may now be
   * looping).
   */
  private expectedMs(client: string, worstCaseMs: number, elapsedMs = 0): number {
    const typical = this.typicalMs.get(client);
    if (typical === undefined || elapsedMs > typical) return worstCaseMs;
    return Math.min(worstCaseMs, typical);
  }

  private rememberDuration(client: string, durationMs: number): void {
    const previous = this.typicalMs.get(client);
    this.typicalMs.delete(client);
    this.typicalMs.set(client, previous === undefined ? durationMs : 0.7 * previous + 0.3 * durationMs);
    if (this.typicalMs.size > REMEMBERED_CLIENTS) this.typicalMs.delete(this.typicalMs.keys().next().value as string);
  }

  /**
   * When a new job of `client` would start: each busy worker frees when its
   * job is expected to end, then the jobs served before it take the
   * earliest free workers.
   */
  estimateWait(client: string): number {
    const now = performance.now();
    const freeAt = this.slots
      .filter((slot) => slot.state !== "dead" && slot.state !== "starting")
      .map((slot) => {
        const occupant = slot.occupant;
        if (slot.state !== "busy" || occupant === undefined) return now;
        const elapsed = now - occupant.startedAt;
        return now + Math.max(0, this.expectedMs(occupant.client, occupant.worstCaseMs, elapsed) - elapsed);
      });
    if (freeAt.length === 0) return 0;
    for (const task of this.queue.servedBefore(client)) {
      freeAt.sort((left, right) => left - right);
      freeAt[0] = (freeAt[0] as number) + this.expectedMs(task.client, task.worstCaseMs);
    }
    return Math.min(...freeAt) - now;
  }

  private retryAfter(waitMs: number): number {
    return Math.max(1, Math.ceil(waitMs / 1000));
  }

  /** Queues `work` for the next free worker; aborting drops it from the queue. */
  enqueue<Result>(
    options: EnqueueOptions,
    work: (slot: Slot<Process, Info>, resolve: (value: Result) => void) => Promise<void>,
  ): Promise<Result> {
    const { signal } = options;
    if (this.closed) return Promise.reject(new SandboxError("executor_closed", "the sandbox is shutting down"));
    if (signal?.aborted) return Promise.reject(new AbortedError("sandbox"));
    const client = options.client ?? INTERNAL_CLIENT;
    const queueTimeoutMs = this.queue.load(client) === 0 ? options.queueTimeoutMs : undefined;
    return new Promise<Result>((resolve, reject) => {
      const task: QueuedTask<Process, Info> = {
        client,
        worstCaseMs: options.worstCaseMs ?? 10_000,
        signal,
        perform: (slot) => work(slot, resolve).catch(reject),
        reject,
        onAbort: () => {
          if (this.dequeue(task)) reject(new AbortedError("sandbox", "the job was dropped from the queue"));
        },
        expiry: undefined,
      };
      if (queueTimeoutMs !== undefined) {
        task.expiry = setTimeout(() => {
          if (!this.dequeue(task)) return;
          const retry = this.retryAfter(this.estimateWait(client));
          reject(new OverloadedError("sandbox_busy", "sandbox", `no sandbox worker became free within ${queueTimeoutMs} ms; retry in ${retry} s`, retry));
        }, queueTimeoutMs);
      }
      signal?.addEventListener("abort", task.onAbort, { once: true });
      this.queue.push(client, task);
      this.dispatch();
    });
  }

  /** Takes a waiting task out of the queue; false when it already started. */
  private dequeue(task: QueuedTask<Process, Info>): boolean {
    if (!this.queue.remove(task.client, task)) return false;
    this.release(task);
    return true;
  }

  private release(task: QueuedTask<Process, Info>): void {
    task.signal?.removeEventListener("abort", task.onAbort);
    if (task.expiry !== undefined) clearTimeout(task.expiry);
  }

  private dispatch(): void {
    while (this.queue.size > 0) {
      let chosen: Slot<Process, Info> | undefined;
      for (const slot of this.slots) {
        if (slot.state === "idle" && (chosen === undefined || slot.idleSince < chosen.idleSince)) chosen = slot;
      }
      if (chosen === undefined) return;
      const next = this.queue.shift();
      if (next === undefined) return;
      this.release(next.item);
      void this.occupy(chosen, next.item);
    }
  }

  /** Runs a task on a slot, then frees the slot for the next one. */
  private async occupy(slot: Slot<Process, Info>, task: QueuedTask<Process, Info>): Promise<void> {
    const process = slot.process;
    slot.state = "busy";
    slot.occupant = { client: task.client, startedAt: performance.now(), worstCaseMs: task.worstCaseMs };
    try {
      await task.perform(slot);
    } finally {
      this.rememberDuration(task.client, performance.now() - (slot.occupant?.startedAt ?? performance.now()));
      this.queue.finished(task.client);
      slot.occupant = undefined;
      if (slot.process === process && slot.state === "busy") {
        slot.state = process.alive ? "idle" : "dead";
        slot.idleSince = performance.now();
      }
      this.dispatch();
    }
  }

  /**
   * A syntax check on the next free worker: `check` asks the worker; a
   * failure of the check itself (not of the program) is logged and answered
   * as "could not be checked", never thrown. `after` runs before the worker
   * is freed (a JavaScript worker preparing its next isolate).
   */
  syntaxCheck(
    options: ExecuteOptions,
    check: (process: Process) => Promise<unknown>,
    after?: (process: Process) => Promise<void>,
  ): Promise<SyntaxCheck> {
    return this.enqueue<SyntaxCheck>({ signal: options.signal, client: options.client, worstCaseMs: 5_000 }, async (slot, resolve) => {
      try {
        resolve((await check(slot.process)) as SyntaxCheck);
      } catch (error) {
        this.options.logger.warn(`a syntax check failed in a ${this.options.workerName}`, { slot: slot.index, error: String(error) });
        resolve({ ok: false, message: "the syntax check could not be completed in the sandbox", line: null });
      }
      await after?.(slot.process);
    });
  }

  /**
   * Edits of a program on the next free worker: `ask` asks the worker. What
   * comes back is checked item by item against the Edit schema (the rest is
   * dropped); a failure of the worker is logged and answered with no edits.
   * Rejects only when `options.signal` aborts, as soon as it does (the
   * worker finishes its answer, bounded in time, and it is ignored).
   */
  edits(options: ExecuteOptions, ask: (process: Process) => Promise<unknown>): Promise<readonly Edit[]> {
    const answer = this.enqueue<readonly Edit[]>({ signal: options.signal, client: options.client, worstCaseMs: EDITS_WORST_CASE_MS }, async (slot, resolve) => {
      try {
        resolve(validEdits(await ask(slot.process), this.options.logger));
      } catch (error) {
        this.options.logger.warn(`an edits request failed in a ${this.options.workerName}`, { slot: slot.index, error: String(error) });
        resolve([]);
      }
    });
    return untilAborted(answer, options.signal).catch((error: unknown) => {
      if (error instanceof AbortedError) throw error;
      // Refused or shut down: no edits, as the seam promises.
      return [];
    });
  }

  counts(): WorkerCounts {
    const count = (state: Slot<Process, Info>["state"]): number => this.slots.filter((slot) => slot.state === state).length;
    return { size: this.slots.length, ready: count("idle"), busy: count("busy"), queued: this.queue.size, restarts: this.restarts };
  }

  get healthy(): boolean {
    return !this.closed && this.slots.some((slot) => slot.state === "idle" || slot.state === "busy");
  }

  firstInfo(): Info | undefined {
    return this.slots.find((slot) => slot.info !== undefined)?.info;
  }

  /** Worker pids, optionally only those in one state (tests kill a busy worker to check recovery). */
  pids(state?: Slot<Process, Info>["state"]): number[] {
    return this.slots
      .filter((slot) => state === undefined || slot.state === state)
      .map((slot) => slot.process.pid)
      .filter((pid): pid is number => pid !== undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.drain()) {
      this.release(task);
      task.reject(new SandboxError("executor_closed", "the sandbox is shutting down"));
    }
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.process.kill();
        await slot.process.exit;
      }),
    );
  }
}

/** The most an edits request holds a worker: the fork server's child deadline (8 s) and the reply. */
const EDITS_WORST_CASE_MS = 9_000;

/** The items of a reply that are edits as the schema defines them; the others are dropped (and counted in the log). */
export function validEdits(reply: unknown, logger: Logger): Edit[] {
  if (!Array.isArray(reply)) return [];
  const edits: Edit[] = [];
  for (const item of reply) {
    const parsed = Edit.safeParse(item);
    if (parsed.success) edits.push(parsed.data);
  }
  if (edits.length < reply.length) logger.warn("edits that do not match the schema were dropped", { dropped: reply.length - edits.length });
  return edits;
}

/** `promise`, or a rejection with AbortedError as soon as `signal` aborts. */
function untilAborted<Result>(promise: Promise<Result>, signal: AbortSignal | undefined): Promise<Result> {
  if (signal === undefined) return promise;
  return new Promise<Result>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError("sandbox", "the edits request was cancelled"));
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A report for a run the sandbox itself could not complete. */
export function sandboxErrorReport<Language extends string>(
  job: { readonly language: Language; readonly tests: readonly unknown[] },
  code: string,
  message: string,
  startedAt: number,
): {
  status: "error";
  language: Language;
  passed: number;
  total: number;
  tests: [];
  duration_ms: number;
  error: { code: string; message: string };
} {
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
