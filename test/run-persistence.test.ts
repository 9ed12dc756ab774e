/**
 * Runs that last, tried as an operator would: the real server process
 * (`npm start`'s entry point, its default SQLite store), killed with
 * SIGKILL mid-run and started again on the same state directory, or
 * stopped with SIGTERM while a run goes on.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { describe, expect, it } from "vitest";

import type { RunEvent } from "../src/shared/schema/events.ts";
import type { RunList } from "../src/shared/schema/runs.ts";
import { selfChecked, startServerProcess, stopServerProcess } from "./support/server-process.ts";
import { readSse, runEvents } from "./support/sse.ts";

const BUGGY = { prompt: "Sum of xs.", entry_point: "total", code: "def total(xs):\n    result = 0\n    for i in range(1, len(xs)):\n        result += xs[i]\n    return result\n", tests: [{ kind: "call", args: [[1, 2, 3]], expected: 6 }, { kind: "call", args: [[4]], expected: 4 }] };
// Every candidate sleeps: a run that is still going when the server is stopped.
// A run that goes on: each program sleeps, and no small edit of it returns the word the test wants.
const SLOW = { prompt: "the word for x + 2", entry_point: "slow", code: "import time\n\ndef slow(x):\n    time.sleep(0.3)\n    return x + 1\n", tests: [{ kind: "call", args: [1], expected: "three" }] };

async function json<T>(url: string): Promise<T> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

async function storedEvents(url: string, runId: string): Promise<RunEvent[]> {
  return runEvents((await readSse(await fetch(`${url}/v1/runs/${runId}/events`))).messages);
}

/** Starts a slow streamed run and reads it until its first edit has run: the events a client has seen. */
async function slowRunSeen(url: string): Promise<{ runId: string; seen: RunEvent[] }> {
  const response = await fetch(`${url}/v1/solve`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ problem: SLOW, rounds: 10, n: 4, stream: true, on_disconnect: "continue" }),
  });
  const seen = runEvents((await readSse(response, (message) => message.event === "candidate.executed" && !message.data.includes('"r1given"'))).messages);
  return { runId: seen[0]?.run_id as string, seen };
}

describe("the run store across restarts", () => {
  it("after kill -9 and a start on the same state: the finished run and all its events are there, the cut one is failed/server_restarted, none is running", async () => {
    const state = mkdtempSync(path.join(tmpdir(), "tracefix-restart-"));
    const first = await startServerProcess({ TRACEFIX_STATE_DIR: state });
    await selfChecked(first); // one worker: the self-check's run first
    const finished = (await (await fetch(`${first.url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ problem: BUGGY, rounds: 2 }) })).json()) as { run_id: string; status: string };
    expect(finished.status).toBe("solved");
    const finishedEvents = await storedEvents(first.url, finished.run_id);
    const { runId, seen } = await slowRunSeen(first.url);
    const exited = new Promise((resolve) => first.child.once("exit", resolve));
    first.child.kill("SIGKILL");
    await exited;

    const second = await startServerProcess({ TRACEFIX_STATE_DIR: state });
    try {
      await selfChecked(second); // its run would be listed as running
      expect(await json(`${second.url}/v1/runs/${finished.run_id}`)).toMatchObject({ status: "solved" });
      expect(await storedEvents(second.url, finished.run_id)).toEqual(finishedEvents);
      expect(await json(`${second.url}/v1/runs/${runId}`)).toMatchObject({ status: "failed", result: { error: { code: "server_restarted" } } });
      const cut = await storedEvents(second.url, runId);
      // No event the client had been sent is lost; the run now ends in a terminal event followers see.
      expect(cut.slice(0, seen.length)).toEqual(seen);
      expect(cut.at(-1)).toMatchObject({ type: "run.failed", error: { code: "server_restarted" } });
      expect(cut.map((event) => event.id)).toEqual(cut.map((_event, index) => index + 1));
      expect((await json<RunList>(`${second.url}/v1/runs?status=running`)).runs).toEqual([]);
      expect((await json<{ runs: { store: string } }>(`${second.url}/healthz`)).runs.store).toBe(`sqlite ${path.join(state, "runs.sqlite")}`);
    } finally {
      await stopServerProcess(second);
    }
  }, 90_000);

  it("SIGTERM drains: a running run gets the grace period, then ends cancelled, and the server exits 0", async () => {
    const state = mkdtempSync(path.join(tmpdir(), "tracefix-drain-"));
    const server = await startServerProcess({ TRACEFIX_STATE_DIR: state, TRACEFIX_SHUTDOWN_GRACE_MS: "500" });
    await selfChecked(server);
    const response = await fetch(`${server.url}/v1/solve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ problem: SLOW, rounds: 10, n: 4, stream: true, on_disconnect: "continue" }),
    });
    const stream = readSse(response);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const exited = new Promise<number | null>((resolve) => server.child.once("exit", resolve));
    const signalled = Date.now();
    server.child.kill("SIGTERM");
    const events = runEvents((await stream).messages);
    expect(events.at(-1)).toMatchObject({ type: "run.failed", error: { code: "cancelled" } });
    expect(await exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);

    const again = await startServerProcess({ TRACEFIX_STATE_DIR: state });
    try {
      expect(await json(`${again.url}/v1/runs/${events[0]?.run_id}`)).toMatchObject({ status: "failed", result: { stopped: "cancelled" } });
    } finally {
      await stopServerProcess(again);
    }
  }, 90_000);
});
