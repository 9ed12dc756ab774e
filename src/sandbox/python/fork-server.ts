/**
 * One fork server process (sandbox/python/forkserver.py) and its line protocol:
 * JSON requests on its stdin, JSON responses on its stdout, one run at a
 * time. A run can be cancelled mid-way (the fork server kills the child and
 * answers "cancelled").
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

import { knownCode, SandboxError } from "../../shared/errors.ts";
import { stringifyExact } from "../../shared/json.ts";
import type { LaunchCommand } from "./isolation.ts";

export interface ForkServerInfo {
  readonly python: string;
  readonly tracer: "settrace" | "monitoring";
  readonly run_uid: number | null;
  readonly nested_namespaces: boolean;
}

interface Response {
  readonly id: number | null;
  readonly ok: boolean;
  readonly report?: unknown;
  readonly info?: ForkServerInfo;
  readonly syntax?: unknown;
  readonly error?: { readonly code?: string; readonly message: string; readonly traceback?: string };
}

interface Pending {
  resolve(response: Response): void;
  reject(error: Error): void;
}

const STDERR_LINES_KEPT = 50;

export class ForkServerProcess {
  readonly slot: number;
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly pending = new Map<number, Pending>();
  private readonly stderrLines: string[] = [];
  private nextId = 1;
  private exited = false;
  readonly ready: Promise<ForkServerInfo>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(slot: number, launch: LaunchCommand) {
    this.slot = slot;
    this.child = spawn(launch.command, launch.args, { env: launch.env, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdin.on("error", () => {
      // The process died; `exit` reports it.
    });
    let resolveReady!: (info: ForkServerInfo) => void;
    let rejectReady!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    this.pending.set(0, {
      resolve: (response) =>
        response.info === undefined
          ? rejectReady(new SandboxError("worker_start_failed", "the fork server did not report itself"))
          : resolveReady(response.info),
      reject: rejectReady,
    });
    createInterface({ input: this.child.stdout, crlfDelay: Infinity }).on("line", (line) => this.onLine(line));
    createInterface({ input: this.child.stderr, crlfDelay: Infinity }).on("line", (line) => {
      this.stderrLines.push(line);
      if (this.stderrLines.length > STDERR_LINES_KEPT) this.stderrLines.shift();
    });
    this.exit = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exited = true;
        const reason = new SandboxError(
          "worker_exited",
          `the fork server exited (${signal ?? `code ${String(code)}`})${this.stderrTail() ? `: ${this.stderrTail()}` : ""}`,
        );
        for (const waiter of this.pending.values()) waiter.reject(reason);
        this.pending.clear();
        resolve({ code, signal });
      });
    });
    this.child.on("error", (error) => {
      for (const waiter of this.pending.values()) waiter.reject(new SandboxError("worker_start_failed", error.message, { cause: error }));
      this.pending.clear();
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  stderrTail(): string {
    return this.stderrLines.slice(-5).join("\n");
  }

  private onLine(line: string): void {
    let response: Response;
    try {
      response = JSON.parse(line) as Response;
    } catch {
      this.stderrLines.push(`unparsable protocol line: ${line.slice(0, 200)}`);
      return;
    }
    const id = response.id ?? -1;
    const waiter = this.pending.get(id);
    if (waiter === undefined) return;
    this.pending.delete(id);
    waiter.resolve(response);
  }

  /** Compile-only check, answered by the fork server itself (in a throwaway child). */
  async syntax(code: string): Promise<unknown> {
    if (this.exited) throw new SandboxError("worker_exited", "the fork server is not running");
    const id = this.nextId++;
    const response = await new Promise<Response>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.write({ id, op: "syntax", code });
    });
    if (!response.ok || response.syntax === undefined) {
      throw new SandboxError(knownCode(response.error?.code), response.error?.message ?? "the syntax check gave no answer");
    }
    return response.syntax;
  }

  /** Send one run; resolves with the fork server's report (unknown shape, checked by the caller). */
  async run(payload: Record<string, unknown>, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.exited) throw new SandboxError("worker_exited", "the fork server is not running");
    const id = this.nextId++;
    const response = await new Promise<Response>((resolve, reject) => {
      const onAbort = (): void => this.write({ id, op: "cancel" });
      signal?.addEventListener("abort", onAbort, { once: true });
      const settle = (): void => signal?.removeEventListener("abort", onAbort);
      this.pending.set(id, {
        resolve: (value) => {
          settle();
          resolve(value);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      this.write({ id, op: "run", ...payload });
      if (signal?.aborted) onAbort();
    });
    if (!response.ok) {
      const code = knownCode(response.error?.code);
      if (code === "cancelled") throw new SandboxError("cancelled", "the run was cancelled");
      throw new SandboxError(code, response.error?.message ?? "the fork server failed", {
        details: response.error?.traceback === undefined ? undefined : { traceback: response.error.traceback },
      });
    }
    return response.report;
  }

  private write(message: Record<string, unknown>): void {
    if (this.exited) return;
    // Test values may hold numbers exactly as the client wrote them (shared/json.ts).
    this.child.stdin.write(`${stringifyExact(message)}\n`);
  }

  /** Ends the process (its sandbox and every run in it die with it). */
  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}
