/**
 * The real server as a user starts it (`tsx src/server/main.ts`) in a child
 * process on a free port, with no model configured and one sandbox worker:
 * for tests of what start-up loads, logs and reports.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.join(import.meta.dirname, "..", "..");

export interface StartedServer {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it printed so far (stdout and stderr). */
  readonly log: () => string;
}

/** Starts the server with `environment` over ours, minus the model settings and the variables in `unset`. */
export async function startServerProcess(environment: Record<string, string>, unset: readonly string[] = []): Promise<StartedServer> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("TRACEFIX_LLM") && name !== "OPENAI_API_KEY" && !unset.includes(name)),
  );
  // One process (tsx as a loader, not its CLI, which would run the server in a child): a SIGKILL reaches the server itself.
  const child = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
    cwd: ROOT,
    // A state directory of its own: the SQLite run store is one server's alone.
    env: { ...clean, PORT: "0", TRACEFIX_SANDBOX_WORKERS: "1", TRACEFIX_STATE_DIR: mkdtempSync(path.join(tmpdir(), "tracefix-state-")), ...environment },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${log}`)), 30_000);
    const read = (chunk: Buffer): void => {
      log += chunk.toString();
      const match = /listening on (http:\/\/[\d.:]+)/.exec(log);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.once("exit", (code) => reject(new Error(`the server exited (${code}):\n${log}`)));
  });
  return { child, url, log: () => log };
}

export async function stopServerProcess(started: StartedServer): Promise<void> {
  const exited = new Promise((resolve) => started.child.once("exit", resolve));
  started.child.kill("SIGTERM");
  await exited;
}

/** Until the start-up self-check (which solves through /v1/solve, on the same workers) has ended. */
export async function selfChecked(started: StartedServer): Promise<void> {
  const until = Date.now() + 60_000;
  // Logged once its run has ended (src/server/self-check.ts).
  while (!/self-check: (repaired|could not repair|the repair through)/.test(started.log())) {
    if (Date.now() > until) throw new Error(`the self-check did not end:\n${started.log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
