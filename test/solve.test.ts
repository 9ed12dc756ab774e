/**
 * POST /v1/solve end to end: a real server on a loopback port, a real
 * sandbox, a fake OpenAI-compatible endpoint scripted per test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { datasetPath, loadDataset, testsOf, type DatasetRecord } from "../src/datasets/index.ts";
import type { PythonPool } from "../src/sandbox/index.ts";
import type { RunEvent } from "../src/shared/schema/events.ts";
import type { TestSpec } from "../src/shared/schema/execution.ts";
import { RunList } from "../src/shared/schema/runs.ts";
import { SolveResult } from "../src/shared/schema/solve.ts";
import { ADD, RIGHT_ADD, WRONG_ADD } from "./fixtures/add.ts";
import { fenced, lastUserMessage, type Script } from "./support/fake-llm.ts";
import { descendantsOf } from "./support/processes.ts";
import { requireDatasets, SKIP_DATASETS } from "./support/datasets.ts";
import { startPool } from "./support/sandbox.ts";
import { startSolveServer, type SolveServer } from "./support/solve-server.ts";
import { readSse, runEvents } from "./support/sse.ts";

let pool: PythonPool;

beforeAll(async () => {
  pool = await startPool();
});

afterAll(async () => {
  await pool.close();
});

async function withServer<T>(
  script: Script,
  body: (server: SolveServer) => Promise<T>,
  options: { ignoreN?: boolean; maxAttempts?: number; heartbeatMs?: number } = {},
): Promise<T> {
  const server = await startSolveServer(pool, script, options);
  try {
    return await body(server);
  } finally {
    await server.close();
  }
}

function post(server: SolveServer, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.url}/v1/solve`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
}


describe.skipIf(SKIP_DATASETS)("repairing a QuixBugs program over real HTTP", () => {
  let record: DatasetRecord;

  beforeAll(async () => {
    requireDatasets("quixbugs");
    record = (await loadDataset(datasetPath("quixbugs"))).find((candidate) => candidate.id === "quixbugs/get_factors") as DatasetRecord;
  });

  it("is solved in round 2 when the revision prompt carries the failing input, the expected value and what the program did", async () => {
    const tests: TestSpec[] = testsOf(record);
    const publicTests = tests.slice(0, 3);
    const hiddenTests = tests.slice(3);
    const prompts: string[] = [];
    // The scripted model repeats the bug until the feedback shows it the
    // failing case: get_factors(100) should be [2, 2, 5, 5].
    const script: Script = (request) => {
      const prompt = lastUserMessage(request);
      prompts.push(prompt);
      const informed =
        prompt.includes("[Round 1 Test Feedback]") &&
        prompt.includes("Test: get_factors(100)") &&
        prompt.includes("Expected: [2, 2, 5, 5]") &&
        prompt.includes("Got: [2, 2, 5]") &&
        prompt.includes("Trace (concise):");
      const code = informed ? record.reference_code : (record.buggy_code as string);
      return { texts: Array.from({ length: request.n ?? 1 }, () => fenced(code)) };
    };
    await withServer(script, async (server) => {
      const response = await post(server, {
        problem: { prompt: record.prompt, entry_point: record.entry_point, code: record.buggy_code, tests: publicTests, hidden_tests: hiddenTests },
        n: 2,
        rounds: 3,
        stream: true,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      const { messages, raw } = await readSse(response);
      const events = runEvents(messages);
      expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
      expect(events.map((event) => event.type)).toEqual([
        "run.started",
        "round.started",
        "candidate.generated",
        "candidate.executed",
        "round.completed",
        "round.started",
        "candidate.generated",
        "candidate.generated",
        "candidate.executed",
        "candidate.executed",
        "round.completed",
        "run.completed",
      ]);
      const completed = events.at(-1) as Extract<RunEvent, { type: "run.completed" }>;
      expect(completed).toMatchObject({ status: "solved", stopped: "solved", solution: { round: 2 } });
      expect(completed.hidden).toEqual({ passed: hiddenTests.length, total: hiddenTests.length });
      // Round 1 ran the given program (no model call); round 2 was one request for both chains.
      expect(server.fake.requests).toHaveLength(1);
      expect(server.fake.requests[0]?.body.n).toBe(2);
      // Hidden tests reach neither the model nor the stream.
      for (const hidden of hiddenTests) {
        const input = (hidden as { input: string }).input;
        expect(prompts.join("\n")).not.toContain(input);
        expect(raw).not.toContain(JSON.stringify(input).slice(1, -1));
      }
    });
  });
});

describe("POST /v1/solve", () => {
  it("answers with JSON by default, and keeps the run for GET /v1/runs/{id} and its events", async () => {
    const script: Script = (request) => {
      const revising = lastUserMessage(request).includes("[Round 1 Test Feedback]");
      return { texts: Array.from({ length: request.n ?? 1 }, () => fenced(revising ? RIGHT_ADD : WRONG_ADD)) };
    };
    await withServer(script, async (server) => {
      const response = await post(server, { problem: ADD, n: 3, rounds: 2 });
      expect(response.headers.get("content-type")).toContain("application/json");
      const result = SolveResult.parse(await response.json());
      expect(result).toMatchObject({ status: "solved", solution: { round: 2, passed: 2, total: 2 }, hidden: { passed: 1, total: 1 } });
      expect(result.rounds.map((round) => round.solved)).toEqual([false, true]);
      expect(result.rounds[0]?.candidates).toHaveLength(3);
      expect(result.usage.llm_calls).toBe(2);
      expect(result.usage.prompt_tokens).toBeGreaterThan(0);
      // Three identical programs per round are run once: two rounds, then the hidden tests.
      expect(result.usage.executions).toBe(3);

      const summary = (await (await fetch(`${server.url}/v1/runs/${result.run_id}`)).json()) as { status: string; result: { status: string } };
      expect(summary).toMatchObject({ status: "solved", result: { status: "solved" } });
      const all = runEvents((await readSse(await fetch(`${server.url}/v1/runs/${result.run_id}/events`))).messages);
      expect(all.at(-1)?.type).toBe("run.completed");
      // Resuming after event 3 replays exactly the rest.
      const resumed = runEvents((await readSse(await fetch(`${server.url}/v1/runs/${result.run_id}/events`, { headers: { "Last-Event-ID": "3" } }))).messages);
      expect(resumed.map((event) => event.id)).toEqual(all.slice(3).map((event) => event.id));
      expect((await fetch(`${server.url}/v1/runs/run_nope`)).status).toBe(404);
    });
  });

  it("streams when the client asks for text/event-stream, the first event at once", async () => {
    await withServer(
      (request) => ({ delayMs: 300, then: { texts: Array.from({ length: request.n ?? 1 }, () => fenced(RIGHT_ADD)) } }),
      async (server) => {
        const started = performance.now();
        const response = await post(server, { problem: ADD, n: 2 }, { accept: "text/event-stream" });
        let firstAt = 0;
        const { messages } = await readSse(response, () => {
          if (firstAt === 0) firstAt = performance.now();
          return false;
        });
        expect(firstAt - started).toBeLessThan(250);
        expect(runEvents(messages)[0]?.type).toBe("run.started");
        expect(runEvents(messages).at(-1)?.type).toBe("run.completed");
      },
    );
  });

  it("sends a heartbeat comment while a stream is quiet", async () => {
    await withServer(
      (request) => ({ delayMs: 400, then: { texts: Array.from({ length: request.n ?? 1 }, () => fenced(RIGHT_ADD)) } }),
      async (server) => {
        const { comments, messages } = await readSse(await post(server, { problem: ADD, n: 1, stream: true }));
        expect(comments).toBeGreaterThanOrEqual(2);
        expect(runEvents(messages).at(-1)?.type).toBe("run.completed");
      },
      { heartbeatMs: 100 },
    );
  });

  it("describes /v1/solve and its events in /openapi.json", async () => {
    await withServer(
      () => ({ texts: [] }),
      async (server) => {
        const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
        expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/v1/solve", "/v1/runs/{id}", "/v1/runs/{id}/events"]));
        expect(JSON.stringify(document.paths["/v1/solve"])).toContain("run.completed");
      },
    );
  });

  it("lets each chain see every chain's attempts with context: all", async () => {
    const prompts: string[] = [];
    await withServer(
      (request, call) => {
        prompts.push(lastUserMessage(request));
        const code = call === 0 ? [WRONG_ADD, "def add(a, b):\n    return a * b\n"] : [RIGHT_ADD];
        return { texts: code.map((text) => fenced(text)).slice(0, request.n ?? 1) };
      },
      async (server) => {
        const result = SolveResult.parse(await (await post(server, { problem: ADD, n: 2, rounds: 2, context: "all" })).json());
        expect(result.status).toBe("solved");
        const revisions = prompts.slice(1);
        expect(revisions.length).toBeGreaterThan(0);
        for (const prompt of revisions) expect(prompt).toContain("another attempt");
      },
    );
  });

  it("marks replies without a program as no_code and goes on", async () => {
    await withServer(
      (_request, call) => ({ texts: [call === 0 ? "I am not sure how to do this." : fenced(RIGHT_ADD)] }),
      async (server) => {
        const response = await post(server, { problem: ADD, n: 1, rounds: 2, stream: true });
        const events = runEvents((await readSse(response)).messages);
        const generated = events.filter((event) => event.type === "candidate.generated");
        expect(generated[0]).toMatchObject({ no_code: true, code: null, reasoning: "I am not sure how to do this." });
        expect(events.find((event) => event.type === "candidate.executed")).toMatchObject({ status: "no_code" });
        expect(events.at(-1)).toMatchObject({ type: "run.completed", status: "solved" });
      },
    );
  });

  it("returns the best program by the ETA order when no round solves it", async () => {
    const partly = "def add(a, b):\n    return 3\n"; // passes one of the two tests
    await withServer(
      (_request, call) => ({ texts: [fenced(call === 0 ? partly : "def add(a, b):\n    raise ValueError('no')\n")] }),
      async (server) => {
        const result = SolveResult.parse(await (await post(server, { problem: ADD, n: 1, rounds: 2 })).json());
        expect(result).toMatchObject({ status: "unsolved", stopped: "rounds", solution: { round: 1, passed: 1, code: partly } });
      },
    );
  });
});

describe("faults", () => {
  it("fails the run with a clear code when the endpoint is down", async () => {
    await withServer(
      () => ({ status: 503, message: "overloaded" }),
      async (server) => {
        const response = await post(server, { problem: ADD, n: 2, stream: true });
        const events = runEvents((await readSse(response)).messages);
        expect(events.at(-1)).toMatchObject({ type: "run.failed", error: { code: "model_server_error", stage: "policy" } });
        expect(server.fake.requests).toHaveLength(3); // the first try and two retries
      },
    );
  });

  it("never outlives deadline_ms, even with an endpoint that never answers", async () => {
    await withServer(
      () => ({ hang: true }),
      async (server) => {
        const started = performance.now();
        const result = SolveResult.parse(await (await post(server, { problem: ADD, n: 2, deadline_ms: 1_000 })).json());
        expect(performance.now() - started).toBeLessThan(2_000);
        expect(result).toMatchObject({ status: "failed", error: { code: "deadline_exceeded" } });
        await expect.poll(() => server.fake.requests.every((request) => request.abortedAt !== undefined)).toBe(true);
      },
    );
  });

  it("answers a problem without a program, and no model configured, with 422 model_required and what to configure", async () => {
    const { createApp } = await import("../src/server/app.ts");
    const app = createApp({ executor: pool });
    const response = await app.request("/v1/solve", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ problem: ADD }) });
    expect(response.status).toBe(422);
    const error = ((await response.json()) as { error: { code: string; message: string } }).error;
    expect(error).toMatchObject({ code: "model_required" });
    expect(error.message).toContain("TRACEFIX_LLM_BASE_URL");
  });

  it.each([
    ["no problem", {}, "problem"],
    ["no prompt", { problem: { ...ADD, prompt: undefined } }, "problem.prompt"],
    ["no public tests", { problem: { ...ADD, tests: [] } }, "problem.tests"],
    ["too many chains", { problem: ADD, n: 65 }, "n"],
    ["too many rounds", { problem: ADD, rounds: 11 }, "rounds"],
    ["an unknown strategy", { problem: ADD, strategy: "beam" }, "strategy"],
    ["an endpoint URL", { problem: ADD, base_url: "http://evil.example" }, "base_url"],
    ["a bad trace format", { problem: ADD, trace: { format: "xml" } }, "trace.format"],
    ["a deadline too short", { problem: ADD, deadline_ms: 10 }, "deadline_ms"],
  ])("answers 400 naming the field for %s", async (_label, body, field) => {
    await withServer(
      () => ({ texts: [] }),
      async (server) => {
        const response = await post(server, body);
        expect(response.status).toBe(400);
        const error = ((await response.json()) as { error: { field: string; code: string } }).error;
        expect(error.code).toBe("invalid_request");
        expect(error.field).toBe(field);
        expect(server.fake.requests).toHaveLength(0);
      },
    );
  });
});

describe("disconnects and load", () => {
  it("aborts the model requests and sandbox work of a disconnected client within 1 s, and leaves no sandbox process behind", async () => {
    const baseline = descendantsOf(pool.workerPids()).length;
    const slow = "import time\ndef add(a, b):\n    time.sleep(30)\n    return a + b\n";
    await withServer(
      (request, call) => (call === 0 ? { texts: Array.from({ length: request.n ?? 1 }, () => fenced(slow)) } : { hang: true }),
      async (server) => {
        const controller = new AbortController();
        const response = await post(server, { problem: ADD, n: 2, rounds: 3, stream: true, limits: { timeout_ms: 60_000 } }, {}, controller.signal);
        // Wait until the sandbox is running the slow program, then go.
        await readSse(response, (message) => message.event === "candidate.generated").catch(() => undefined);
        await expect.poll(() => pool.health().workers.busy, { timeout: 5_000 }).toBeGreaterThan(0);
        controller.abort();
        const goneAt = performance.now();
        await expect.poll(() => pool.health().workers.busy, { timeout: 2_000 }).toBe(0);
        await expect.poll(() => descendantsOf(pool.workerPids()).length, { timeout: 2_000 }).toBeLessThanOrEqual(baseline);
        expect(performance.now() - goneAt).toBeLessThan(1_000);
        expect(server.runs.running).toBe(0);
      },
    );
  });

  it("aborts a model request in flight within 1 s of the client leaving", async () => {
    await withServer(
      () => ({ hang: true }),
      async (server) => {
        const controller = new AbortController();
        const response = await post(server, { problem: ADD, n: 2, stream: true }, {}, controller.signal);
        void readSse(response).catch(() => undefined);
        await expect.poll(() => server.fake.requests.length).toBe(1);
        const goneAt = performance.now();
        controller.abort();
        await expect.poll(() => server.fake.requests[0]?.abortedAt, { interval: 5 }).toBeDefined();
        expect((server.fake.requests[0]?.abortedAt ?? Infinity) - goneAt).toBeLessThan(1_000);
      },
    );
  });

  it("keeps a run going after the client leaves when it asked to continue", async () => {
    await withServer(
      (request) => ({ delayMs: 200, then: { texts: Array.from({ length: request.n ?? 1 }, () => fenced(RIGHT_ADD)) } }),
      async (server) => {
        const controller = new AbortController();
        const response = await post(server, { problem: ADD, n: 1, stream: true, on_disconnect: "continue" }, {}, controller.signal);
        const { messages } = await readSse(response, () => true);
        const runId = runEvents(messages)[0]?.run_id as string;
        controller.abort();
        const events = runEvents((await readSse(await fetch(`${server.url}/v1/runs/${runId}/events`))).messages);
        expect(events.at(-1)).toMatchObject({ type: "run.completed", status: "solved" });
      },
    );
  });

  it("completes 20 concurrent streaming runs", async () => {
    await withServer(
      (request) => {
        const revising = lastUserMessage(request).includes("[Round 1 Test Feedback]");
        return { delayMs: 20, then: { texts: Array.from({ length: request.n ?? 1 }, () => fenced(revising ? RIGHT_ADD : WRONG_ADD)) } };
      },
      async (server) => {
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, async () => {
            const response = await post(server, { problem: ADD, n: 2, rounds: 2, stream: true });
            return runEvents((await readSse(response)).messages).at(-1);
          }),
        );
        expect(outcomes.map((event) => event?.type === "run.completed" && event.status)).toEqual(Array.from({ length: 20 }, () => "solved"));
      },
    );
  });
});

describe('policy "mixed": the edit search first, then the model for the chains it did not fix', () => {
  // A greeting no edit of the program can write: only the model's revision has the right words.
  const GREET = 'def greet(name):\n    return "Hi " + name\n';
  const RIGHT_GREET = 'def greet(name):\n    return "Hello, " + name + "!"\n';
  const GREET_TESTS = [
    { kind: "call", args: ["Ann"], expected: "Hello, Ann!" },
    { kind: "call", args: ["Bo"], expected: "Hello, Bo!" },
  ];

  it("runs the round's edits first; when none passes, each chain's revision comes from the model and the run is solved", async () => {
    const prompts: string[] = [];
    const script: Script = (request) => {
      prompts.push(lastUserMessage(request));
      return { texts: Array.from({ length: request.n ?? 1 }, () => fenced(RIGHT_GREET)) };
    };
    await withServer(script, async (server) => {
      const response = await post(server, { problem: { prompt: "greet(name): 'Hello, <name>!'", entry_point: "greet", code: GREET, tests: GREET_TESTS }, policy: "mixed", n: 2, rounds: 2, stream: true });
      const events: RunEvent[] = runEvents((await readSse(response)).messages);
      expect(events[0]).toMatchObject({ type: "run.started", policy: "mixed" });
      const generated = events.filter((event) => event.type === "candidate.generated" && event.round === 2);
      const made = generated.map((event) => (event.type === "candidate.generated" ? [event.candidate, event.source] : []));
      expect(made.slice(0, 2)).toEqual([
        ["r2c0", "edit"],
        ["r2c1", "edit"],
      ]);
      // Each chain's revision is its own request; the first that passes ends the round, so the other may never be made.
      expect(made.length).toBeGreaterThanOrEqual(3);
      for (const [id, source] of made.slice(2)) expect([/^r2c[01]s2$/.test(String(id)), source]).toEqual([true, "llm"]);
      // The model was asked only after the edits had run and failed, and saw the edit it revises.
      const firstLlm = events.findIndex((event) => event.type === "candidate.generated" && event.source === "llm");
      const editsRun = events.filter((event, index) => event.type === "candidate.executed" && event.candidate.startsWith("r2c") && !event.candidate.endsWith("s2") && index < firstLlm);
      expect(editsRun).toHaveLength(2);
      expect(prompts.length).toBeGreaterThan(0);
      expect(prompts.every((prompt) => prompt.includes("Round 2"))).toBe(true);
      const completed = events.at(-1);
      expect(completed).toMatchObject({ type: "run.completed", status: "solved", solution: { candidate: expect.stringMatching(/^r2c[01]s2$/), chosen_by: "first_passing" } });
    });
  });

  it("keeps searching edits when the model cannot be reached: the run ends unsolved, not failed, with every round's edits run", async () => {
    await withServer(
      () => ({ status: 500, message: "down" }),
      async (server) => {
        const response = await post(server, { problem: { prompt: "greet(name)", entry_point: "greet", code: GREET, tests: GREET_TESTS }, policy: "mixed", n: 2, rounds: 3, stream: true });
        const events: RunEvent[] = runEvents((await readSse(response)).messages);
        expect(events.at(-1)).toMatchObject({ type: "run.completed", status: "unsolved" });
        const editsRun = events.filter((event) => event.type === "candidate.executed" && /^r[23]c\d$/.test(event.candidate));
        expect(editsRun).toHaveLength(4);
        expect(server.fake.requests.length).toBeGreaterThan(0);
      },
      { maxAttempts: 1 },
    );
  });

  it("answers 422 model_required naming problem.code when there is no program to edit", async () => {
    await withServer(
      () => ({ texts: [fenced(RIGHT_ADD)] }),
      async (server) => {
        const response = await post(server, { problem: { prompt: "add(a, b)", entry_point: "add", tests: ADD.tests }, policy: "mixed" });
        expect(response.status).toBe(422);
        expect(((await response.json()) as { error: unknown }).error).toMatchObject({ code: "model_required", message: expect.stringContaining("give problem.code") });
        expect(server.fake.requests).toHaveLength(0);
      },
    );
  });

  it("asks the model nothing when an edit passes", async () => {
    await withServer(
      () => ({ texts: [fenced(WRONG_ADD)] }),
      async (server) => {
        const response = await post(server, { problem: { prompt: "add(a, b)", entry_point: "add", code: WRONG_ADD, tests: ADD.tests }, policy: "mixed", n: 4, rounds: 2 });
        const result = SolveResult.parse(await response.json());
        expect(result.status).toBe("solved");
        expect(result.solution?.code).toBe(RIGHT_ADD);
        expect(server.fake.requests).toHaveLength(0);
        expect(result.usage.llm_calls).toBe(0);
        // The run is kept as a mixed one, and the runs API filters by it.
        const listed = RunList.parse(await (await fetch(`${server.url}/v1/runs?policy=mixed`)).json()).runs;
        expect(listed.map((run) => [run.run_id, run.policy])).toEqual([[result.run_id, "mixed"]]);
        expect(RunList.parse(await (await fetch(`${server.url}/v1/runs?policy=repair`)).json()).runs).toEqual([]);
      },
    );
  });
});
