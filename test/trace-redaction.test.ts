/**
 * Secrets never leave the server: not in renderings, not in raw traces, not
 * in printed output or error messages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PythonPool } from "../src/sandbox/index.ts";
import { createApp } from "../src/server/app.ts";
import { TRACE_FORMATS, type ExecutionReport } from "../src/shared/schema/execution.ts";
import { REDACTED, isSecretName, isSecretValue, redactText } from "../src/trace/index.ts";
import { startPool } from "./support/sandbox.ts";

describe("redactText", () => {
  it.each([
    ["an OpenAI-style key", "key = 'sk-proj-Ab12Cd34Ef56Gh78'", "sk-proj-Ab12"],
    ["a Stripe-style live key", "'sk_live_51Hq9XyZabcdefgh'", "sk_live_51H"],
    ["a GitHub token", "ghp_0123456789abcdefghijABCD", "ghp_0123456789"],
    ["an AWS access key id", "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7"],
    ["a JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eyJhbGciOiJIUzI1NiJ9"],
    ["a bearer header", "Authorization: Bearer abcdef0123456789", "abcdef0123456789"],
    ["a password in a dict repr", "{'user': 'ann', 'password': 'hunter2'}", "hunter2"],
    ["an environment-style assignment", "OPENAI_API_KEY=plainvalue123", "plainvalue123"],
    ["an e-mail address", "contact ann.lee+tests@example.co.uk now", "ann.lee+tests@example.co.uk"],
  ])("masks %s", (_label, text, secret) => {
    const masked = redactText(text);
    expect(masked).not.toContain(secret);
    expect(masked === text).toBe(false);
  });

  it("leaves ordinary values, md5 digests and look-alike names alone", () => {
    for (const text of ["[1, 2, 3]", "'3e25960a79dbc69b674cd4ec67a72c62'", "total = 42", "'skip-list'", "tokens = ['a', 'b']", "{'key': 3}", "keyboard = 'qwerty'"]) {
      expect(redactText(text)).toBe(text);
    }
  });

  it("masks by variable name word by word", () => {
    expect(isSecretName("db_password")).toBe(true);
    expect(isSecretName("apiKey")).toBe(true);
    expect(isSecretName("ACCESS_TOKEN")).toBe(true);
    expect(isSecretValue("GITHUB_TOKEN", "'ghx_0123456789abcdef'")).toBe(true);
    expect(isSecretName("tokens")).toBe(false);
    expect(isSecretName("key")).toBe(false);
    expect(isSecretName("monkey")).toBe(false);
  });

  it("masks a plain `token` only when its value looks like a credential", () => {
    expect(isSecretValue("token", "'-'")).toBe(false);
    expect(isSecretValue("token", "10")).toBe(false);
    expect(isSecretValue("token", "'ya29.a0AfH6SMBx3kq9Zt'")).toBe(true);
    expect(isSecretValue("auth_token", "'abc'")).toBe(true);
    expect(redactText("token = '+'")).toBe("token = '+'");
  });
});

describe("secrets made at run time appear in no response", () => {
  let pool: PythonPool;
  let app: ReturnType<typeof createApp>;
  const liveKey = `sk-live-${"9fA7c2Qx".repeat(3)}`;
  const password = "correct-horse-battery";
  const email = "ops.lead@corp.example.com";
  const program = [
    "def login(user):",
    "    key = 'sk-live-' + '9fA7c2Qx' * 3",
    "    password = 'correct-' + 'horse-battery'",
    "    contact = 'ops.lead' + '@corp.example.com'",
    "    config = {'password': password, 'user': user}",
    "    print('using', key, contact)",
    "    if len(password) > 3:",
    "        raise ValueError('bad login for ' + contact + ' with ' + key)",
    "    return key",
    "",
  ].join("\n");

  beforeAll(async () => {
    pool = await startPool({ size: 1 });
    app = createApp({ executor: pool });
  });

  afterAll(async () => {
    await pool.close();
  });

  it.each(TRACE_FORMATS)("with the %s rendering, raw trace included", async (format) => {
    const response = await app.request("/v1/execute", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        code: program,
        entry_point: "login",
        tests: [{ kind: "call", args: ["ann"], expected: "x" }],
        trace: { format, mode: "failing" },
      }),
    });
    const body = await response.text();
    const report = JSON.parse(body) as ExecutionReport;
    expect(report.tests[0]?.status).toBe("runtime_error");
    expect(report.tests[0]?.trace?.events.length).toBeGreaterThan(3);
    expect(report.tests[0]?.rendering).toBeDefined();
    for (const secret of [liveKey, "9fA7c2Qx9fA7", password, email]) expect(body).not.toContain(secret);
    expect(body).toContain(REDACTED);
  });
});
