/**
 * Without bubblewrap the sandbox still runs programs with rlimits (and, as
 * root, a per-worker uid), says so in its health, and contains runaway
 * programs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PythonPool } from "../src/sandbox/index.ts";
import { processesMatching } from "./support/processes.ts";
import { job, startPool } from "./support/sandbox.ts";

let pool: PythonPool;

beforeAll(async () => {
  pool = await startPool({ isolation: "rlimits", size: 1 });
});

afterAll(async () => {
  await pool.close();
});

describe("rlimits-only sandbox", () => {
  it("says that it is not isolated by bubblewrap, and why", () => {
    const health = pool.health();
    expect(health.isolation.kind).toBe("rlimits");
    expect(health.isolation.fallback_reason).toBe("disabled by configuration");
  });

  it("runs programs, stops endless loops and memory bombs, and leaves no daemon behind", async () => {
    const report = await pool.execute(
      job({
        code: [
          "import subprocess",
          "def f(kind):",
          "    if kind == 'loop':",
          "        while True:",
          "            pass",
          "    if kind == 'memory':",
          "        return bytearray(10**11)",
          "    if kind == 'daemon':",
          "        subprocess.Popen(['sleep', '4244.5'], start_new_session=True)",
          "    return kind",
          "",
        ].join("\n"),
        entry_point: "f",
        tests: [
          { kind: "call", args: ["ok"], expected: "ok" },
          { kind: "call", args: ["loop"], expected: "loop" },
          { kind: "call", args: ["memory"], expected: "memory" },
          { kind: "call", args: ["daemon"], expected: "daemon" },
        ],
        trace: { mode: "none" },
        limits: { timeout_ms: 500, memory_mb: 256 },
      }),
    );
    expect(report.tests.map((test) => test.status)).toEqual(["passed", "timeout", "memory_limit", "passed"]);
    await expect.poll(() => processesMatching("sleep 4244.5").length).toBe(0);
  });
});
