/**
 * One JavaScript sandbox worker (sandbox/javascript/worker.mjs), a child
 * process. Jobs go to it over Node's IPC channel; its replies come back as
 * bounded frames on a pipe of their own (frames.ts says why). One job at a
 * time; after answering, the worker prepares its next isolate and says
 * "idle" — the pool gives it no work before that.
 *
 * Every request is bounded: a job that cannot be handed over (it does not
 * serialise, the channel is broken) is refused at once, and a worker that
 * does not answer within the caller's limit, sends a frame over the bound or
 * never becomes idle again is killed (the pool replaces it). A caller
 * therefore always gets an answer or an error, never a wait without end.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

import { knownCode, SandboxError } from "../../shared/errors.ts";
import type { TestReport } from "../../shared/schema/execution.ts";
import { FrameReader, FrameTooLargeError } from "./frames.ts";

export const WORKER_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../sandbox/javascript/worker.mjs");

/** The worker bounds its own replies well below this (sandbox/javascript/reply.mjs); past it the worker is broken and is killed. */
export const MAX_FRAME_BYTES = 48 << 20;
/** The worker's own V8 heap (isolates have heaps of their own, outside it). */
export const DEFAULT_WORKER_HEAP_MB = 768;
/** How long a worker may take to prepare its next isolate after answering. */
const IDLE_LIMIT_MS = 10_000;
/** The pipe the replies come on (0-2 stdio, 3 IPC). */
const REPLY_FD = 4;

export interface JavaScriptWorkerInfo {
  readonly node: string;
  readonly v8: string;
  readonly isolated_vm: string;
}

interface WorkerMessage {
  readonly t: "ready" | "result" | "done" | "syntax" | "failed" | "idle";
  readonly id?: number;
  readonly info?: JavaScriptWorkerInfo;
  readonly index?: number;
  readonly result?: TestReport;
  readonly report?: unknown;
  readonly syntax?: unknown;
  readonly error?: { readonly code?: string; readonly message: string };
}

interface Pending {
  readonly onResult: (index: number, result: TestReport) => void;
  resolve(message: WorkerMessage): void;
  reject(error: Error): void;
}

/** Why this process killed its worker, when it did (the pool reports and counts it). */
export type KillReason = "stuck" | "oversized_reply" | "broken_channel" | "not_idle" | "protocol";

const STDERR_KEPT = 4_000;

export interface JavaScriptWorkerOptions {
  readonly heapMb?: number | undefined;
  /** Hears what the worker writes on stderr (its own failures, with host paths: for the server's log). */
  readonly onStderr?: ((text: string) => void) | undefined;
}

export class JavaScriptWorkerProcess {
  readonly slot: number;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private readonly frames = new FrameReader(MAX_FRAME_BYTES);
  private nextId = 1;
  private exited = false;
  private stderr = "";
  private idleWaiters: (() => void)[] = [];
  private isIdle = false;
  private resolveReady!: (info: JavaScriptWorkerInfo) => void;
  /** Set when this side killed the worker, and why. */
  killReason: KillReason | undefined;
  readonly ready: Promise<JavaScriptWorkerInfo>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(slot: number, options: JavaScriptWorkerOptions = {}) {
    this.slot = slot;
    // isolated-vm needs --no-node-snapshot on Node >= 20. A bounded heap: the
    // worker's own work (instrumenting, judging, bounding replies) is
    // bounded, and should it still run out, it dies alone and is replaced.
    // The worker gets no environment of the server's (API keys stay out of its memory).
    this.child = fork(WORKER_SCRIPT, [], {
      execArgv: ["--no-node-snapshot", `--max-old-space-size=${options.heapMb ?? DEFAULT_WORKER_HEAP_MB}`],
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", NODE_ENV: "production" },
      stdio: ["ignore", "ignore", "pipe", "ipc", "pipe"],
      serialization: "json",
    });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEPT);
      options.onStderr?.(chunk);
    });
    let rejectReady!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    const replies = this.child.stdio[REPLY_FD] as Readable | null | undefined;
    replies?.on("data", (chunk: Buffer) => this.onBytes(chunk));
    replies?.on("error", () => this.killFor("broken_channel"));
    // Nothing is read from this side of the IPC channel; a message there is a protocol error.
    this.child.on("message", () => this.killFor("protocol"));
    this.exit = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exited = true;
        const reason = new SandboxError("worker_exited", `the JavaScript worker exited (${signal ?? `code ${String(code)}`})`);
        rejectReady(reason);
        for (const waiter of this.pending.values()) waiter.reject(reason);
        this.pending.clear();
        for (const waiter of this.idleWaiters.splice(0)) waiter();
        resolve({ code, signal });
      });
    });
    this.child.on("error", (error) => {
      rejectReady(new SandboxError("worker_start_failed", error.message, { cause: error }));
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The worker's last lines on stderr: for the server's log only (they name host paths). */
  stderrTail(): string {
    return this.stderr.trim().split("\n").slice(-5).join("\n");
  }

  private onBytes(chunk: Buffer): void {
    let texts: string[];
    try {
      texts = this.frames.push(chunk);
    } catch (error) {
      this.killFor(error instanceof FrameTooLargeError ? "oversized_reply" : "protocol");
      return;
    }
    for (const text of texts) {
      let message: WorkerMessage;
      try {
        message = JSON.parse(text) as WorkerMessage;
      } catch {
        this.killFor("protocol");
        return;
      }
      this.onMessage(message);
    }
  }

  private onMessage(message: WorkerMessage): void {
    if (message.t === "ready" && message.info !== undefined) {
      this.isIdle = true;
      this.resolveReady(message.info);
      return;
    }
    if (message.t === "idle") {
      this.isIdle = true;
      for (const waiter of this.idleWaiters.splice(0)) waiter();
      return;
    }
    const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
    if (waiter === undefined || message.id === undefined) return;
    if (message.t === "result") {
      if (message.index !== undefined && message.result !== undefined) waiter.onResult(message.index, message.result);
      return;
    }
    this.pending.delete(message.id);
    waiter.resolve(message);
  }

  /** Kills the worker, remembering why (the pending request fails with worker_exited, the pool replaces it). */
  killFor(reason: KillReason): void {
    if (this.exited) return;
    this.killReason ??= reason;
    this.child.kill("SIGKILL");
  }

  /** Resolves once the worker has prepared its next isolate, or died; one that takes longer than `limitMs` is killed. */
  idle(limitMs: number = IDLE_LIMIT_MS): Promise<void> {
    if (this.isIdle || this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.killFor("not_idle"), limitMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Sends one request; the answer must come within `limitMs` or the worker
   * is killed. A message that cannot be serialised never reached the
   * worker: it stays idle and the request fails with `job_not_delivered`.
   */
  private request(message: Record<string, unknown>, onResult: Pending["onResult"], limitMs: number): Promise<WorkerMessage> {
    if (this.exited) return Promise.reject(new SandboxError("worker_exited", "the JavaScript worker is not running"));
    const id = this.nextId++;
    return new Promise<WorkerMessage>((resolve, reject) => {
      const timer = setTimeout(() => this.killFor("stuck"), limitMs);
      const settle = <Value>(finish: (value: Value) => void) => (value: Value) => {
        clearTimeout(timer);
        finish(value);
      };
      this.pending.set(id, { onResult, resolve: settle(resolve), reject: settle(reject) });
      const wasIdle = this.isIdle;
      this.isIdle = false;
      try {
        // Serialisation happens before anything is written: a throw here means the worker saw nothing.
        this.child.send({ id, ...message }, (error) => {
          if (error !== null && error !== undefined) this.killFor("broken_channel");
        });
      } catch (error) {
        this.pending.delete(id);
        this.isIdle = wasIdle;
        clearTimeout(timer);
        reject(new SandboxError("job_not_delivered", "the job could not be handed to the JavaScript worker (it could not be serialised)", { cause: error }));
      }
    });
  }

  /** Runs a job; `onResult` hears each test's verdict as it comes (so a crash can be pinned on its test). */
  async run(job: Record<string, unknown>, onResult: Pending["onResult"], limitMs: number): Promise<unknown> {
    const answer = await this.request({ op: "run", job }, onResult, limitMs);
    if (answer.t !== "done") throw new SandboxError(knownCode(answer.error?.code), answer.error?.message ?? "the JavaScript worker failed");
    return answer.report;
  }

  async syntax(code: string, limitMs: number): Promise<unknown> {
    const answer = await this.request({ op: "syntax", code }, () => undefined, limitMs);
    if (answer.t !== "syntax") throw new SandboxError(knownCode(answer.error?.code), answer.error?.message ?? "the syntax check gave no answer");
    return answer.syntax;
  }

  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}
