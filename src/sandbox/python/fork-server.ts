/**
 * One fork server process (sandbox/python/forkserver.py) and its line protocol:
 * JSON requests on its stdin, JSON responses on its stdout, one run at a
 * time. A run can be cancelled mid-way (the fork server kills the child and
 * answers "cancelled").
 *
 * Lines are read as Buffers with a hard cap (MAX_REPLY_BYTES): a line over it
 * never becomes a string (V8 cannot hold every size, and the server's
 * memory should not follow a program's output). The fork server bounds its
 * replies far below the cap; a line that passes it anyway fails that run
 * (`reply_too_large`) and the worker is restarted.
 */
import type { ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";

import { knownCode, SandboxError } from "../../shared/errors.ts";
import { stringifyExact } from "../../shared/json.ts";
import type { Logger } from "../../shared/logger.ts";
import { spawnLaunch, type LaunchCommand } from "./isolation.ts";

export const MAX_REPLY_BYTES = 64 << 20;
const MAX_STDERR_LINE = 8 << 10;
const STDERR_LINES_KEPT = 50;

export interface ForkServerInfo {
  readonly python: string;
  readonly tracer: "settrace" | "monitoring";
  readonly run_uid: number | null;
  readonly nested_namespaces: boolean;
  readonly run_namespaces?: boolean;
  readonly run_tmpfs?: boolean;
  readonly kill?: "pid-namespace" | "uid-sweep" | "process-group";
  readonly memory?: "cgroup-v1" | "cgroup-v2" | "accounting";
}

interface Response {
  readonly id: number | null;
  readonly ok?: boolean;
  readonly report?: unknown;
  readonly info?: ForkServerInfo;
  readonly syntax?: unknown;
  readonly edits?: unknown;
  readonly retire?: string;
  readonly message?: string;
  readonly error?: { readonly code?: string; readonly message: string };
}

interface Pending {
  resolve(response: Response): void;
  reject(error: Error): void;
}

/**
 * Splits a byte stream into lines of at most `limit` bytes. A longer line is
 * dropped as it arrives (only its length is counted) and reported once.
 */
export class LineReader {
  private readonly limit: number;
  private readonly onLine: (line: Buffer) => void;
  private readonly onOverflow: (bytes: number) => void;
  private pieces: Buffer[] = [];
  private length = 0;
  private overflowing = false;

  constructor(limit: number, onLine: (line: Buffer) => void, onOverflow: (bytes: number) => void) {
    this.limit = limit;
    this.onLine = onLine;
    this.onOverflow = onOverflow;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start <= chunk.length) {
      const newline = chunk.indexOf(10, start);
      const end = newline < 0 ? chunk.length : newline;
      this.append(chunk.subarray(start, end));
      if (newline < 0) return;
      this.finishLine();
      start = newline + 1;
    }
  }

  private append(piece: Buffer): void {
    if (piece.length === 0) return;
    this.length += piece.length;
    if (this.overflowing) return;
    if (this.length > this.limit) {
      this.overflowing = true;
      this.pieces = [];
      this.onOverflow(this.length);
      return;
    }
    this.pieces.push(piece);
  }

  private finishLine(): void {
    if (!this.overflowing) this.onLine(this.pieces.length === 1 ? (this.pieces[0] as Buffer) : Buffer.concat(this.pieces, this.length));
    this.pieces = [];
    this.length = 0;
    this.overflowing = false;
  }
}

export class ForkServerProcess {
  readonly slot: number;
  private readonly child: ChildProcess;
  private readonly stdin: Writable;
  private readonly pending = new Map<number, Pending>();
  private readonly stderrLines: string[] = [];
  private readonly logger: Logger;
  private nextId = 1;
  private exited = false;
  /** Why this process was killed (`stuck`, `broken`, `reply_too_large`, `cleanup_failed`), when it was. */
  killReason: string | undefined;
  /** Set when the fork server asked to be replaced; it is killed once its current request is answered. */
  private retiring: string | undefined;
  readonly ready: Promise<ForkServerInfo>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(slot: number, launch: LaunchCommand, logger: Logger) {
    this.slot = slot;
    this.logger = logger;
    this.child = spawnLaunch(launch, ["pipe", "pipe", "pipe"]);
    this.stdin = this.child.stdin as Writable;
    this.stdin.on("error", () => {
      // The process died; `exit` reports it.
    });
    this.ready = this.awaitInfo();
    this.readStreams();
    this.exit = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exited = true;
        this.rejectAll(new SandboxError("worker_exited", `the fork server exited (${signal ?? `code ${String(code)}`})`));
        resolve({ code, signal });
      });
    });
    this.child.on("error", (error) => this.rejectAll(new SandboxError("worker_start_failed", error.message, { cause: error })));
  }

  private awaitInfo(): Promise<ForkServerInfo> {
    const ready = new Promise<ForkServerInfo>((resolve, reject) => {
      this.pending.set(0, {
        resolve: (response) =>
          response.info === undefined ? reject(new SandboxError("worker_start_failed", "the fork server did not report itself")) : resolve(response.info),
        reject,
      });
    });
    ready.catch(() => undefined);
    return ready;
  }

  private readStreams(): void {
    const stdout = new LineReader(MAX_REPLY_BYTES, (line) => this.onLine(line), (bytes) => this.onOversizedReply(bytes));
    (this.child.stdout as Readable).on("data", (chunk: Buffer) => stdout.push(chunk));
    const stderr = new LineReader(
      MAX_STDERR_LINE,
      (line) => this.keepStderr(line.toString("utf8")),
      () => this.keepStderr(`(a line of more than ${MAX_STDERR_LINE} bytes left out)`),
    );
    (this.child.stderr as Readable).on("data", (chunk: Buffer) => stderr.push(chunk));
  }

  private keepStderr(line: string): void {
    this.stderrLines.push(line);
    if (this.stderrLines.length > STDERR_LINES_KEPT) this.stderrLines.shift();
  }

  private rejectAll(reason: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(reason);
    this.pending.clear();
  }

  get alive(): boolean {
    return !this.exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The fork server's last stderr lines: for the server's log, never for a client (they may name paths). */
  stderrTail(): string {
    return this.stderrLines.slice(-5).join("\n");
  }

  private onOversizedReply(bytes: number): void {
    this.logger.error("a fork server reply passed the hard size cap; restarting the worker", { slot: this.slot, bytes_so_far: bytes, cap: MAX_REPLY_BYTES });
    this.rejectAll(new SandboxError("reply_too_large", `the sandbox's reply passed ${MAX_REPLY_BYTES} bytes`));
    this.kill("reply_too_large");
  }

  private onLine(line: Buffer): void {
    let response: Response;
    try {
      response = JSON.parse(line.toString("utf8")) as Response;
    } catch {
      this.keepStderr(`unparsable protocol line of ${line.length} bytes`);
      return;
    }
    if (response.retire !== undefined) {
      this.onRetire(response.retire, response.message);
      return;
    }
    const id = response.id ?? -1;
    const waiter = this.pending.get(id);
    if (waiter === undefined) return;
    this.pending.delete(id);
    waiter.resolve(response);
  }

  /** The fork server can no longer promise a clean run: replace it once its current request is answered. */
  private onRetire(reason: string, message: string | undefined): void {
    this.logger.warn("a fork server asked to be replaced", { slot: this.slot, reason, message });
    this.retiring = reason;
    if (this.pending.size === 0) this.kill(reason);
  }

  private afterRequest(): void {
    if (this.retiring !== undefined && this.pending.size === 0) this.kill(this.retiring);
  }

  private request(message: Record<string, unknown>, onSent?: (id: number) => void): Promise<Response> {
    if (this.exited) return Promise.reject(new SandboxError("worker_exited", "the fork server is not running"));
    const id = this.nextId++;
    let line: string;
    try {
      // Test values may hold numbers exactly as the client wrote them (shared/json.ts).
      line = stringifyExact({ id, ...message });
    } catch (error) {
      // Values nested deeper than V8's stack allows.
      return Promise.reject(new SandboxError("unserializable_request", "the request could not be serialized for the sandbox", { cause: error }));
    }
    const response = new Promise<Response>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.writeLine(line);
      onSent?.(id);
    });
    return response.finally(() => this.afterRequest());
  }

  /** Compile-only check, answered by the fork server itself (in a throwaway child). */
  async syntax(code: string): Promise<unknown> {
    const response = await this.request({ op: "syntax", code });
    if (!response.ok || response.syntax === undefined) {
      throw new SandboxError(knownCode(response.error?.code), response.error?.message ?? "the syntax check gave no answer");
    }
    return response.syntax;
  }

  /** Edits of a program (tracefix_harness/edits.py), made by the fork server in a throwaway child; unchecked here. */
  async edits(request: { readonly code: string; readonly sites: readonly unknown[]; readonly limit: number }): Promise<unknown> {
    const response = await this.request({ op: "edits", code: request.code, sites: request.sites, limit: request.limit });
    if (!response.ok || response.edits === undefined) {
      throw new SandboxError(knownCode(response.error?.code), response.error?.message ?? "the edits request gave no answer");
    }
    return response.edits;
  }

  /** Send one run; resolves with the fork server's report (unknown shape, checked by the caller). */
  async run(payload: Record<string, unknown>, signal: AbortSignal | undefined): Promise<unknown> {
    let onAbort: (() => void) | undefined;
    const response = await this.request({ op: "run", ...payload }, (id) => {
      onAbort = (): void => this.write({ id, op: "cancel" });
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) onAbort();
    }).finally(() => {
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    });
    if (!response.ok) {
      const code = knownCode(response.error?.code);
      if (code === "cancelled") throw new SandboxError("cancelled", "the run was cancelled");
      throw new SandboxError(code, response.error?.message ?? "the fork server failed");
    }
    return response.report;
  }

  private write(message: Record<string, unknown>): void {
    this.writeLine(stringifyExact(message));
  }

  private writeLine(line: string): void {
    if (this.exited) return;
    this.stdin.write(`${line}\n`);
  }

  /** Ends the process (its sandbox and every run in it die with it); `reason` is kept for the pool's counts. */
  kill(reason?: string): void {
    if (this.exited) return;
    this.killReason ??= reason;
    this.child.kill("SIGKILL");
  }
}
