/**
 * One JavaScript sandbox worker (sandbox/javascript/worker.mjs), a child
 * process talking over Node's IPC channel. One job at a time; after answering,
 * the worker prepares its next isolate and says "idle" — the pool gives it
 * no work before that.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { knownCode, SandboxError } from "../../shared/errors.ts";
import type { TestReport } from "../../shared/schema/execution.ts";

export const WORKER_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../sandbox/javascript/worker.mjs");

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

const STDERR_KEPT = 4_000;

export class JavaScriptWorkerProcess {
  readonly slot: number;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  private stderr = "";
  private idleWaiters: (() => void)[] = [];
  private isIdle = false;
  readonly ready: Promise<JavaScriptWorkerInfo>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(slot: number) {
    this.slot = slot;
    // isolated-vm needs --no-node-snapshot on Node >= 20. The worker gets no
    // environment of the server's (API keys stay out of its memory).
    this.child = fork(WORKER_SCRIPT, [], {
      execArgv: ["--no-node-snapshot"],
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", NODE_ENV: "production" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "json",
    });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEPT);
    });
    let resolveReady!: (info: JavaScriptWorkerInfo) => void;
    let rejectReady!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    this.child.on("message", (message: WorkerMessage) => {
      if (message.t === "ready" && message.info !== undefined) {
        this.isIdle = true;
        resolveReady(message.info);
        return;
      }
      if (message.t === "idle") {
        this.isIdle = true;
        for (const waiter of this.idleWaiters.splice(0)) waiter();
        return;
      }
      const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
      if (waiter === undefined || message.id === undefined) return;
      if (message.t === "result" && message.index !== undefined && message.result !== undefined) {
        waiter.onResult(message.index, message.result);
        return;
      }
      this.pending.delete(message.id);
      waiter.resolve(message);
    });
    this.exit = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exited = true;
        const reason = new SandboxError("worker_exited", `the JavaScript worker exited (${signal ?? `code ${String(code)}`})${this.stderrTail() ? `: ${this.stderrTail()}` : ""}`);
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

  stderrTail(): string {
    return this.stderr.trim().split("\n").slice(-5).join("\n");
  }

  /** Resolves once the worker has prepared its next isolate (or died). */
  idle(): Promise<void> {
    if (this.isIdle || this.exited) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private request(message: Record<string, unknown>, onResult: Pending["onResult"]): Promise<WorkerMessage> {
    if (this.exited) return Promise.reject(new SandboxError("worker_exited", "the JavaScript worker is not running"));
    const id = this.nextId++;
    this.isIdle = false;
    return new Promise<WorkerMessage>((resolve, reject) => {
      this.pending.set(id, { onResult, resolve, reject });
      this.child.send({ id, ...message });
    });
  }

  /** Runs a job; `onResult` hears each test's verdict as it comes (so a crash can be pinned on its test). */
  async run(job: Record<string, unknown>, onResult: Pending["onResult"]): Promise<unknown> {
    const answer = await this.request({ op: "run", job }, onResult);
    if (answer.t !== "done") throw new SandboxError(knownCode(answer.error?.code), answer.error?.message ?? "the JavaScript worker failed");
    return answer.report;
  }

  async syntax(code: string): Promise<unknown> {
    const answer = await this.request({ op: "syntax", code }, () => undefined);
    if (answer.t !== "syntax") throw new SandboxError(knownCode(answer.error?.code), answer.error?.message ?? "the syntax check gave no answer");
    return answer.syntax;
  }

  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}
