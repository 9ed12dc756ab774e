/**
 * Hostile and careless requests at the HTTP edge: numbers that JSON.parse
 * would change, nesting meant to exhaust a stack, wrong methods and ids,
 * floods of endless loops from other clients, endpoints that fail in odd
 * ways. Each answer is what a client can act on, and the server lives.
 */
import { serve, type ServerType } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PythonPool } from "../src/sandbox/index.ts";
import { createApp } from "../src/server/app.ts";
import { SolveResult } from "../src/shared/schema/solve.ts";
import { fenced } from "./support/fake-llm.ts";
import { startPool } from "./support/sandbox.ts";
import { startSolveServer, type SolveServer } from "./support/solve-server.ts";

let pool: PythonPool;
let server: ServerType;
let url = "";

beforeAll(async () => {
  // The server's defaults scaled down so that floods are quick to provoke: a
  // fresh client waits at most 1 s behind others (2.5 s by default), gives up
  // at 1.5 s (3 s); the flood's loops run 0.6 s each.
  pool = await startPool({ size: 2, admission: { perClient: 3, queued: 32, maxWaitMs: 1_000 } });
  const app = createApp({ executor: pool, queueTimeoutMs: 1_500 });
  url = await new Promise<string>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (address) => resolve(`http://127.0.0.1:${address.port}`));
  });
});

afterAll(async () => {
  server.close();
  await pool.close();
});

function execute(text: string, client = "tester"): Promise<Response> {
  return fetch(`${url}/v1/execute`, { method: "POST", headers: { "content-type": "application/json", "x-client-id": client }, body: text });
}

async function errorOf(response: Response): Promise<{ code: string; field?: string; message: string }> {
  return ((await response.json()) as { error: { code: string; field?: string; message: string } }).error;
}

const REPR = "def show(x):\n    return repr(x)\n";

describe("numbers arrive as the client wrote them", () => {
  it.each([
    ["18446744073709551617", "18446744073709551617"],
    ["1e400", "inf"],
    ["-0.0", "-0.0"],
    ["1.0", "1.0"],
    ["-1e-320", "-1e-320"],
  ])("a Python program is called with %s as Python reads it", async (literal, shown) => {
    const body = `{"code": ${JSON.stringify(REPR)}, "entry_point": "show", "tests": [{"kind": "call", "args": [${literal}], "expected": ${JSON.stringify(shown)}}], "trace": {"mode": "none"}}`;
    const response = await execute(body);
    expect(response.status).toBe(200);
    const report = (await response.json()) as { tests: { status: string; actual: string }[] };
    expect(report.tests[0]).toMatchObject({ status: "passed", actual: JSON.stringify(shown).replaceAll('"', "'") });
  });

  it("compares with an expected 1e400 exactly: a program returning None does not pass", async () => {
    const body = `{"code": "def f():\\n    return None\\n", "entry_point": "f", "tests": [{"kind": "call", "args": [], "expected": 1e400}], "trace": {"mode": "none"}}`;
    const report = (await (await execute(body)).json()) as { tests: { status: string; expected: string }[] };
    expect(report.tests[0]).toMatchObject({ status: "wrong_answer", expected: "inf" });
  });

  it("refuses, naming the field, a value a JavaScript program could never receive", async () => {
    const body = `{"language": "javascript", "code": "function f(x) { return x; }", "entry_point": "f", "tests": [{"kind": "call", "args": [1, 18446744073709551617], "expected": 1}]}`;
    const response = await execute(body);
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: "invalid_request", field: "tests.0.args.1" });
  });
});

describe("malformed bodies are 400s naming the field", () => {
  it("refuses nesting meant to exhaust a stack, naming where it went too deep", async () => {
    const deep = `${"[".repeat(5_000)}${"]".repeat(5_000)}`;
    const response = await execute(`{"code": "def f(x):\\n    return 1\\n", "entry_point": "f", "tests": [{"kind": "call", "args": [${deep}], "expected": 1}]}`);
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.field?.startsWith("tests.0.args.0")).toBe(true);
    expect(error.message).toContain("nested deeper than 64 levels");
  });

  it("names the body for text that is not JSON or not UTF-8", async () => {
    const broken = await execute('{"code": "x", ');
    expect(broken.status).toBe(400);
    expect(await errorOf(broken)).toMatchObject({ field: "body" });
    const latin1 = await fetch(`${url}/v1/execute`, { method: "POST", headers: { "content-type": "application/json" }, body: new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x7d]) });
    expect(latin1.status).toBe(400);
    expect((await errorOf(latin1)).message).toContain("UTF-8");
  });

  it("keeps a __proto__ key a plain field, refused by the schema", async () => {
    const response = await execute('{"__proto__": {"code": "x"}, "code": "def f():\\n    return 1\\n", "tests": [{"kind": "call", "args": [], "expected": 1}]}');
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ field: "__proto__" });
  });
});

describe("routes answer what a client can act on", () => {
  it("answers a wrong method with 405 and the methods allowed", async () => {
    const response = await fetch(`${url}/v1/execute`);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(await errorOf(response)).toMatchObject({ code: "method_not_allowed" });
    const runs = await fetch(`${url}/v1/runs/abc`, { method: "PUT" });
    expect(runs.status).toBe(405);
    expect(runs.headers.get("allow")).toBe("DELETE, GET, HEAD");
  });

  it("answers an unknown path with 404 in the one error shape", async () => {
    const response = await fetch(`${url}/v2/everything`);
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toMatchObject({ code: "not_found" });
  });

  it("serves the runs API without a model: an empty list, 404 for unknown ids, 422 only to start a run with nothing to repair", async () => {
    const list = await fetch(`${url}/v1/runs`);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ runs: [], next_cursor: null });
    for (const path of ["/v1/runs/run_nope", "/v1/runs/run_nope/events", "/v1/runs/run_nope/preferences"]) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(404);
      expect(await errorOf(response)).toMatchObject({ code: "run_not_found" });
    }
    const solve = await fetch(`${url}/v1/solve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ problem: { prompt: "add", entry_point: "add", tests: [{ kind: "call", args: [1, 2], expected: 3 }] } }),
    });
    expect(solve.status).toBe(422);
    expect(await errorOf(solve)).toMatchObject({ code: "model_required" });
  });

  it("refuses a solve whose prompt has no examples to take tests from, instead of calling any program solved", async () => {
    const response = await fetch(`${url}/v1/solve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ problem: { prompt: "Return the answer.", entry_point: "answer", doctests: true } }),
    });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ field: "problem.tests" });
  });
});

describe("a flood of endless loops from other clients", () => {
  const ENDLESS = JSON.stringify({
    code: "def spin():\n    while True:\n        pass\n",
    entry_point: "spin",
    tests: [{ kind: "call", args: [], expected: 1 }],
    trace: { mode: "none" },
    limits: { timeout_ms: 600 },
  });
  const TRIVIAL = JSON.stringify({ code: "def one():\n    return 1\n", entry_point: "one", tests: [{ kind: "call", args: [], expected: 1 }] });

  it("refuses a client's request past its share at once, with 429 and Retry-After", async () => {
    const mine = Array.from({ length: 3 }, () => execute(ENDLESS, "greedy"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    const extra = await execute(ENDLESS, "greedy");
    expect(performance.now() - started).toBeLessThan(500);
    expect(extra.status).toBe(429);
    expect(Number(extra.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await errorOf(extra)).toMatchObject({ code: "too_many_requests" });
    for (const response of await Promise.all(mine)) expect(response.status).toBe(200);
  });

  // The bound is the queue's 1.5 s (3 s with the defaults); 1 s more is allowed for a loaded 2-core test machine.
  it("answers another client's trivial request within the queue's bound (+1 s), or refuses it with Retry-After", async () => {
    let flooding = true;
    const flood = async (client: string): Promise<number> => {
      let sent = 0;
      while (flooding) {
        sent += 1;
        await (await execute(ENDLESS, client)).text();
      }
      return sent;
    };
    const flooders = ["flood-a", "flood-b"].flatMap((client) => [flood(client), flood(client), flood(client)]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const outcomes: { status: number; ms: number; retryAfter: string | null }[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = performance.now();
      const response = await execute(TRIVIAL, "quiet");
      await response.text();
      outcomes.push({ status: response.status, ms: performance.now() - started, retryAfter: response.headers.get("retry-after") });
    }
    flooding = false;
    await Promise.all(flooders);
    console.log("trivial requests during the flood:", JSON.stringify(outcomes));
    for (const outcome of outcomes) {
      if (outcome.status === 200) expect(outcome.ms).toBeLessThan(2_500);
      else {
        expect(outcome.status).toBe(503);
        expect(Number(outcome.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(outcome.ms).toBeLessThan(2_500);
      }
    }
    // The server is whole afterwards: the trivial request passes at once.
    const after = (await (await execute(TRIVIAL, "quiet")).json()) as { status: string };
    expect(after.status).toBe("passed");
  });
});

describe("workers held by long jobs", () => {
  it("refuses a trivial request at once, saying when to come back, rather than keeping it waiting", async () => {
    const long = JSON.stringify({
      code: "def spin():\n    while True:\n        pass\n",
      entry_point: "spin",
      tests: [{ kind: "call", args: [], expected: 1 }],
      trace: { mode: "none" },
      limits: { timeout_ms: 2_000 },
    });
    const holders = [execute(long, "holder-a"), execute(long, "holder-b")];
    // Both workers are now half a second into jobs that may take two: about 1.5 s to wait, past the 1 s allowed.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = performance.now();
    const refused = await execute(JSON.stringify({ code: "def one():\n    return 1\n", entry_point: "one", tests: [{ kind: "call", args: [], expected: 1 }] }), "quiet");
    // "At once": the refusal does not wait for any worker.
    expect(performance.now() - started).toBeLessThan(500);
    expect(refused.status).toBe(503);
    expect(await errorOf(refused)).toMatchObject({ code: "sandbox_busy" });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    for (const response of await Promise.all(holders)) expect(((await response.json()) as { tests: { status: string }[] }).tests[0]?.status).toBe("timeout");
  });
});

describe("a model endpoint that fails in odd ways", () => {
  const PROBLEM = { prompt: "Write add(a, b).", entry_point: "add", tests: [{ kind: "call", args: [1, 2], expected: 3 }] };

  async function solve(solveServer: SolveServer, body: Record<string, unknown>): Promise<SolveResult> {
    const response = await fetch(`${solveServer.url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ problem: PROBLEM, n: 1, ...body }) });
    return SolveResult.parse(await response.json());
  }

  it("counts every attempt sent to a failing endpoint as an LLM call", async () => {
    const solveServer = await startSolveServer(pool, () => ({ status: 503 }), { maxAttempts: 3 });
    try {
      const result = await solve(solveServer, {});
      expect(result).toMatchObject({ status: "failed", error: { code: "model_server_error" } });
      expect(result.usage.llm_calls).toBe(3);
      expect(solveServer.fake.requests).toHaveLength(3);
    } finally {
      await solveServer.close();
    }
  });

  it("calls a 200 that is not a Chat Completions body a bad response, not an unreachable endpoint", async () => {
    for (const reply of [{ raw: "<html>gateway login</html>" }, { raw: "{not json", contentType: "application/json" }]) {
      const solveServer = await startSolveServer(pool, () => reply, { maxAttempts: 2 });
      try {
        const result = await solve(solveServer, {});
        expect(result.error?.code, reply.raw).toBe("model_bad_response");
        expect(result.usage.llm_calls).toBe(2);
      } finally {
        await solveServer.close();
      }
    }
  });

  it("says the endpoint was rate limiting when the deadline passes while retrying", async () => {
    const solveServer = await startSolveServer(pool, () => ({ status: 429, headers: { "retry-after": "1" } }), { maxAttempts: 5 });
    try {
      const result = await solve(solveServer, { deadline_ms: 1_500 });
      expect(result.error?.code).toBe("deadline_exceeded");
      expect(result.error?.message).toContain("model_rate_limited");
      expect(result.usage.llm_calls).toBeGreaterThanOrEqual(2);
    } finally {
      await solveServer.close();
    }
  });

  it("still repairs with a model that answers, on the same pool", async () => {
    const solveServer = await startSolveServer(pool, () => ({ texts: [fenced("def add(a, b):\n    return a + b\n")] }));
    try {
      expect((await solve(solveServer, {})).status).toBe("solved");
    } finally {
      await solveServer.close();
    }
  });
});
