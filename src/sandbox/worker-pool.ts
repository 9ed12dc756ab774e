/**
 * The part every sandbox pool shares, whatever runs in its workers (Python
 * fork servers, JavaScript isolate workers): a fixed set of slots, each
 * holding one worker process; work queued in arrival order and given to the
 * longest-idle worker; a worker that dies is replaced (more slowly when it
 * keeps dying); aborting drops queued work.
 */
import { AbortedError, SandboxError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { WorkerCounts } from "./executor.ts";

/** What the pool needs of a worker process. */
export interface PoolProcess<Info> {
  readonly ready: Promise<Info>;
  readonly exit: Promise<unknown>;
  readonly alive: boolean;
  readonly pid: number | undefined;
  kill(): void;
}

export interface Slot<Process extends PoolProcess<Info>, Info> {
  readonly index: number;
  process: Process;
  state: "starting" | "idle" | "busy" | "dead";
  info: Info | undefined;
  recentExits: number[];
  /** When the slot last became idle: the longest-idle worker is the readiest (it had time to prepare its next run). */
  idleSince: number;
}

interface QueuedTask<Process extends PoolProcess<Info>, Info> {
  readonly signal: AbortSignal | undefined;
  readonly perform: (slot: Slot<Process, Info>) => Promise<void>;
  readonly reject: (error: Error) => void;
  readonly onAbort: () => void;
}

export interface WorkerSlotsOptions<Process> {
  readonly size: number;
  readonly spawn: (index: number) => Process;
  readonly logger: Logger;
  /** Used in log lines, e.g. "Python fork server". */
  readonly workerName: string;
}

export class WorkerSlots<Process extends PoolProcess<Info>, Info> {
  readonly slots: Slot<Process, Info>[] = [];
  private readonly queue: QueuedTask<Process, Info>[] = [];
  private readonly options: WorkerSlotsOptions<Process>;
  restarts = 0;
  closed = false;

  constructor(options: WorkerSlotsOptions<Process>) {
    this.options = options;
    for (let index = 0; index < options.size; index++) {
      this.slots.push({ index, process: this.spawn(index), state: "starting", info: undefined, recentExits: [], idleSince: 0 });
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

  /** Queues `work` for the next free worker; aborting drops it from the queue. */
  enqueue<Result>(signal: AbortSignal | undefined, work: (slot: Slot<Process, Info>, resolve: (value: Result) => void) => Promise<void>): Promise<Result> {
    if (this.closed) return Promise.reject(new SandboxError("executor_closed", "the sandbox is shutting down"));
    if (signal?.aborted) return Promise.reject(new AbortedError("sandbox"));
    return new Promise<Result>((resolve, reject) => {
      const task: QueuedTask<Process, Info> = {
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
      let chosen: Slot<Process, Info> | undefined;
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
  private async occupy(slot: Slot<Process, Info>, task: QueuedTask<Process, Info>): Promise<void> {
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

  counts(): WorkerCounts {
    const count = (state: Slot<Process, Info>["state"]): number => this.slots.filter((slot) => slot.state === state).length;
    return { size: this.slots.length, ready: count("idle"), busy: count("busy"), queued: this.queue.length, restarts: this.restarts };
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
    for (const entry of this.queue.splice(0)) entry.reject(new SandboxError("executor_closed", "the sandbox is shutting down"));
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.process.kill();
        await slot.process.exit;
      }),
    );
  }
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
