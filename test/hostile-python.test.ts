/**
 * Hostile Python programs against the whole sandbox, one class per block:
 * replies too big for Node, workers broken for good, garbage on the result
 * pipe, state and memory that outlive a run, signals at the fork server,
 * memory spread over processes, output that poisons later tests, fake passes
 * through `output` expressions, time budgets, host paths. Each test checks
 * what a user would notice: the reported status, that the server and its
 * worker answer the next run as if nothing happened, and /healthz.
 *
 * One worker, so that "the next run" is always on the same worker.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PythonPool } from "../src/sandbox/index.ts";
import { LineReader, MAX_REPLY_BYTES } from "../src/sandbox/python/fork-server.ts";
import { createApp } from "../src/server/app.ts";
import type { ExecutionReport, TestSpec } from "../src/shared/schema/execution.ts";
import { descendantsOf, processesMatching } from "./support/processes.ts";
import { job, startPool, statuses } from "./support/sandbox.ts";

const REPOSITORY = path.resolve(import.meta.dirname, "..");
const TRIVIAL = "def f():\n    return 'fine'\n";

let pool: PythonPool;
let app: ReturnType<typeof createApp>;
let baseline = 0;

interface Health {
  sandbox: {
    isolation: { run_namespaces: boolean; run_tmpfs: boolean; kill: string; memory: string };
    workers: { restarts: number; broken_restarts: number; restarts_by_reason: Record<string, number>; oom_kills: number };
  };
}

/** Processes below the workers once they are idle: the fork server and its spare (bwrap's two included). */
async function idleProcesses(on: PythonPool): Promise<number> {
  await on.execute(job({ code: TRIVIAL, entry_point: "f", tests: [call()], trace: { mode: "none" } }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  return descendantsOf(on.workerPids()).length;
}

beforeAll(async () => {
  pool = await startPool({ size: 1 });
  app = createApp({ executor: pool, version: "test" });
  baseline = await idleProcesses(pool);
});

afterAll(async () => {
  await pool.close();
});

type Limits = { timeout_ms?: number; memory_mb?: number; output_bytes?: number; total_ms?: number };
type Trace = { mode?: "none" | "failing" | "all"; max_events?: number; repr_limit?: number; max_tests?: number };

function run(code: string, tests: TestSpec[], limits: Limits = {}, trace: Trace = { mode: "none" }, on: PythonPool = pool): Promise<ExecutionReport> {
  return on.execute(job({ code, entry_point: "f", tests, trace, limits: { timeout_ms: 2_000, ...limits } }));
}

const call = (expected: unknown = "fine"): TestSpec => ({ kind: "call", args: [], expected });

async function health(): Promise<Health> {
  return (await (await app.request("/healthz")).json()) as Health;
}

/** The worker answers a trivial program at once, has not been replaced, and nothing of earlier runs is left. */
async function expectUnaffected(on: PythonPool = pool): Promise<void> {
  const started = Date.now();
  const report = await run(TRIVIAL, [call()], {}, { mode: "none" }, on);
  expect(report.status).toBe("passed");
  expect(Date.now() - started).toBeLessThan(1_500);
  expect(on.health().workers.restarts).toBe(0);
  await expect.poll(() => descendantsOf(on.workerPids()).length, { timeout: 3_000 }).toBeLessThanOrEqual(baseline);
}

describe("replies too big for one JSON line", () => {
  it("bounds 3 x 16 MiB of control characters to what a reply may hold, per stream and per run", async () => {
    const code = "import sys\ndef f():\n    sys.stdout.write('\\x01' * (16 * 1024 * 1024 - 16))\n    return 'fine'\n";
    const report = await run(code, [call(), call(), call()], { output_bytes: 16 << 20, timeout_ms: 10_000 });
    expect(statuses(report.tests)).toEqual(["passed", "passed", "passed"]);
    for (const test of report.tests) {
      expect(JSON.stringify(test.stdout).length).toBeLessThanOrEqual(1 << 20);
      expect(test.omitted?.stdout_bytes).toBeGreaterThan(15 << 20);
    }
    expect(JSON.stringify(report).length).toBeLessThan(17 << 20);
    await expectUnaffected();
  });

  it("judges stdio on the whole output while it shows only its head", async () => {
    const expected = "\x01".repeat(900_000);
    const exact = await run("import sys\nsys.stdout.write('\\x01' * 900_000)\n", [{ kind: "stdio", stdin: "", stdout: expected }], { output_bytes: 4 << 20 });
    const longer = await run("import sys\nsys.stdout.write('\\x01' * 900_000 + 'X')\n", [{ kind: "stdio", stdin: "", stdout: expected }], { output_bytes: 4 << 20 });
    expect(exact.tests[0]?.status).toBe("passed");
    // The difference lies past what the report shows: the verdict still sees it.
    expect(longer.tests[0]?.status).toBe("wrong_answer");
    expect(longer.tests[0]?.omitted?.stdout_bytes).toBeGreaterThan(0);
    expect(JSON.stringify(longer.tests[0]?.actual).length).toBeLessThanOrEqual(1 << 20);
  });

  it("cuts huge traces to head and tail within the run's reply bound, saying why", async () => {
    const names = Array.from({ length: 25 }, (_, index) => `v${index} = str(i) * 2000`).join("\n        ");
    const code = `def f():\n    for i in range(60):\n        ${names}\n    return "never"\n`;
    // Three traced tests of ~60 MB of state each: far past the per-trace bound.
    const tests = Array.from({ length: 3 }, () => call("other"));
    const report = await run(code, tests, { timeout_ms: 3_000, total_ms: 120_000 }, { mode: "failing", max_events: 1_250, repr_limit: 2_000, max_tests: 3 });
    expect(report.status).toBe("failed");
    expect(JSON.stringify(report).length).toBeLessThan(17 << 20);
    const traced = report.tests.filter((test) => test.trace !== undefined);
    expect(traced.length).toBeGreaterThan(0);
    for (const test of traced) {
      expect(test.trace?.truncated).toBe(true);
      expect(test.trace?.gap?.reason).toMatch(/size: \d+ events left out/);
      expect(test.omitted?.trace_events).toBeGreaterThan(0);
    }
    await expectUnaffected();
  });

  it("never turns a protocol line over the hard cap into a string", () => {
    const lines: number[] = [];
    const overflows: number[] = [];
    const reader = new LineReader(1_000, (line) => lines.push(line.length), (bytes) => overflows.push(bytes));
    reader.push(Buffer.from("ok\n"));
    for (let index = 0; index < 10; index++) reader.push(Buffer.alloc(300, 0x61));
    reader.push(Buffer.from("tail\nnext\n"));
    expect(lines).toEqual([2, 4]);
    expect(overflows).toHaveLength(1);
    expect(MAX_REPLY_BYTES).toBe(64 << 20);
  });
});

describe("a worker broken for good", () => {
  const nest = "import os\ndef f():\n    for _ in range(25_000):\n        os.mkdir('d')\n        os.chdir('d')\n    return 'fine'\n";

  it("leaves nothing behind from 25,000 nested directories (the run's tmpfs goes with it)", async () => {
    const report = await run(nest, [call()], { timeout_ms: 20_000 });
    expect(report.tests[0]?.status).toBe("passed");
    const after = await run("import os\ndef f():\n    return sorted(os.listdir('.')) + sorted(os.listdir('/tmp'))\n", [call(["work"])]);
    expect(after.tests[0]?.actual).toBe("['work']");
    await expectUnaffected();
  });

  it.each<[string, { runNamespaces?: boolean; runTmpfs?: boolean }]>([
    ["runs have no namespaces of their own", { runNamespaces: false }],
    ["runs have namespaces but the kernel gives them no tmpfs", { runTmpfs: false }],
  ])("removes the tree without recursion where %s", async (_, fallbackOptions) => {
    const fallback = await startPool({ size: 1, ...fallbackOptions });
    try {
      const isolation = fallback.health().isolation;
      expect(isolation.run_namespaces).toBe(fallbackOptions.runNamespaces !== false);
      expect(isolation.run_tmpfs).toBe(false);
      const report = await run(nest, [call()], { timeout_ms: 20_000 }, { mode: "none" }, fallback);
      expect(report.tests[0]?.status).toBe("passed");
      // Names planted for later runs are no trap either: each run's directory has a fresh name.
      await run("import os\ndef f():\n    for n in range(200):\n        open(f'../run-{n}', 'w').close()\n    return 'fine'\n", [call()], {}, { mode: "none" }, fallback);
      const next = await run("import os\ndef f():\n    return os.listdir('.')\n", [call([])], {}, { mode: "none" }, fallback);
      expect(next.tests[0]?.status).toBe("passed");
      expect(fallback.health().workers.restarts).toBe(0);
    } finally {
      await fallback.close();
    }
  });

  it.skipIf(process.getuid?.() !== 0)("replaces a worker that can no longer run a trivial program, and counts it", async () => {
    const broken = await startPool({ size: 1 });
    const brokenApp = createApp({ executor: broken, version: "test" });
    try {
      // From outside, as the environment might: the worker's processes may no longer open a descriptor.
      for (const entry of descendantsOf(broken.workerPids()).filter((process) => process.command.startsWith(broken.interpreter.executable))) {
        execFileSync("prlimit", ["--pid", String(entry.pid), "--nofile=3:3"]);
      }
      // The spare prepared before is still whole; the one after it is not.
      await run(TRIVIAL, [call()], {}, { mode: "none" }, broken);
      const failed = await run(TRIVIAL, [call()], {}, { mode: "none" }, broken);
      expect(failed.tests[0]?.status).toBe("runtime_error");
      expect(failed.tests[0]?.error?.message).toBe("the sandbox could not start a process for this test");
      await expect.poll(() => broken.health().workers.broken_restarts ?? 0, { timeout: 10_000 }).toBe(1);
      await expect.poll(async () => (await run(TRIVIAL, [call()], {}, { mode: "none" }, broken)).status, { timeout: 15_000 }).toBe("passed");
      const counted = (await (await brokenApp.request("/healthz")).json()) as Health;
      expect(counted.sandbox.workers.restarts_by_reason["broken"]).toBe(1);
    } finally {
      await broken.close();
    }
  });
});

describe("garbage on the result pipe", () => {
  it("ends a run that floods every descriptor with unparsable frames, and only that run", async () => {
    const code = [
      "import os, subprocess, time",
      "def f():",
      "    subprocess.Popen(['sleep', '4247.5'], start_new_session=True)",
      "    if os.fork() == 0:",
      "        while True:",
      "            time.sleep(0.001)",
      "    garbage = b'[' * 100_000 + b'\\n'",
      "    for descriptor in range(3, 256):",
      "        try:",
      "            os.write(descriptor, garbage)",
      "        except OSError:",
      "            pass",
      "    return 'fine'",
      "",
    ].join("\n");
    const report = await run(code, [call(), call()]);
    expect(report.tests[0]?.status).toBe("runtime_error");
    expect(report.tests[0]?.error?.type).toBe("SandboxViolation");
    // The test after it runs in a fresh child, and floods again: same verdict, nothing else affected.
    expect(report.tests[1]?.error?.type).toBe("SandboxViolation");
    await expectUnaffected();
  });

  it("ends a run whose frame is valid JSON nested too deeply for the harness", async () => {
    const code = "import os\ndef f():\n    for d in range(3, 64):\n        try:\n            os.write(d, b'{\"t\":' + b'[' * 5000 + b']' * 5000 + b'}\\n')\n        except OSError:\n            pass\n    return 'fine'\n";
    const report = await run(code, [call()]);
    expect(report.tests[0]?.error?.type).toBe("SandboxViolation");
    await expectUnaffected();
  });
});

describe("state and host memory that outlive a run", () => {
  const plant = [
    "import ctypes, os",
    "libc = ctypes.CDLL(None, use_errno=True)",
    "libc.shmat.restype = ctypes.c_void_p",
    "rt = ctypes.CDLL('librt.so.1', use_errno=True)",
    "def f():",
    "    segment = libc.shmget(0x7AC3, 4096, 0o1666)",
    "    address = libc.shmat(segment, None, 0)",
    "    ctypes.memmove(address, b'planted', 7)",
    "    rt.mq_open(b'/tracefix-plant', os.O_CREAT | os.O_RDWR, 0o666, None)",
    "    libc.syscall(248, b'user', b'tracefix-plant', b'secret', 6, -4)",
    "    libc.syscall(248, b'user', b'tracefix-plant', b'secret', 6, -3)",
    "    open('/tmp/planted', 'w').write('x')",
    "    open('/dev/shm/planted', 'w').write('x')",
    "    return 'fine'",
    "",
  ].join("\n");
  const look = [
    "import ctypes, os",
    "libc = ctypes.CDLL(None, use_errno=True)",
    "rt = ctypes.CDLL('librt.so.1', use_errno=True)",
    "def f():",
    "    found = []",
    "    if libc.shmget(0x7AC3, 0, 0) >= 0: found.append('shm')",
    "    if rt.mq_open(b'/tracefix-plant', os.O_RDONLY) >= 0: found.append('mqueue')",
    "    if libc.syscall(249, b'user', b'tracefix-plant', None, 0) >= 0: found.append('keyring')",
    "    found += [p for p in ('/tmp/planted', '/dev/shm/planted') if os.path.exists(p)]",
    "    return found",
    "",
  ].join("\n");

  it("gives the next run none of a run's SysV segment, message queue, keys or files", async () => {
    const planted = await run(plant, [call()]);
    expect(planted.tests[0]?.status).toBe("passed");
    const looked = await run(look, [call([])]);
    expect(looked.tests[0]?.actual).toBe("[]");
    await expectUnaffected();
  });

  it("releases shared memory a run left attached to nothing, and counts it against the run", async () => {
    // Each segment is mapped only while it is filled: RLIMIT_AS stays out of the way.
    const hoard = (segments: number, megabytes: number) =>
      [
        "import ctypes",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "libc.shmat.restype = ctypes.c_void_p",
        "def f():",
        `    for key in range(${segments}):`,
        `        segment = libc.shmget(0x5100 + key, ${megabytes} << 20, 0o1600)`,
        "        address = libc.shmat(segment, None, 0)",
        "        if address in (None, ctypes.c_void_p(-1).value):",
        "            raise OSError(ctypes.get_errno(), 'shmat')",
        `        ctypes.memset(address, 1, ${megabytes} << 20)`,
        "        libc.shmdt(ctypes.c_void_p(address))",
        "    return 'fine'",
        "",
      ].join("\n");
    const shmem = (): number => Number(/^Shmem:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0) * 1024;
    const before = shmem();
    const fits = await run(hoard(3, 64), [call()], { memory_mb: 512 });
    expect(fits.tests[0]?.status).toBe("passed");
    await expect.poll(shmem, { timeout: 5_000 }).toBeLessThan(before + (64 << 20));
    if ((await health()).sandbox.isolation.memory !== "accounting") {
      // A cgroup charges the segments to the run: 16 x 16 MB is over 128 MB.
      const over = await run(hoard(16, 16), [call()], { memory_mb: 128 });
      expect(over.tests[0]?.status).toBe("memory_limit");
      await expect.poll(shmem, { timeout: 5_000 }).toBeLessThan(before + (64 << 20));
    }
    await expectUnaffected();
  });
});

describe("the fork server out of the run's reach", () => {
  it("runs each program as pid 1 of its own namespaces, in root mode too", async () => {
    const report = await run("import os\ndef f():\n    return [os.getpid(), os.getppid()]\n", [call([1, 0])]);
    expect(report.tests[0]?.status).toBe("passed");
    const { sandbox } = await health();
    expect(sandbox.isolation.run_namespaces).toBe(true);
    expect(sandbox.isolation.run_tmpfs).toBe(true);
    expect(sandbox.isolation.kill).toBe("pid-namespace");
  });

  it("is never stopped by background processes that send SIGSTOP to every pid they can name", async () => {
    const code = [
      "import os, signal",
      "def storm():",
      "    while True:",
      "        for target in [-1] + list(range(1, 200)):",
      "            try:",
      "                os.kill(target, signal.SIGSTOP)",
      "            except OSError:",
      "                pass",
      "        for name in os.listdir('/proc'):",
      "            if name.isdigit():",
      "                try:",
      "                    descriptor = os.open(f'/proc/{name}', os.O_RDONLY | os.O_DIRECTORY)",
      "                    signal.pidfd_send_signal(descriptor, signal.SIGSTOP)",
      "                except OSError:",
      "                    pass",
      "                finally:",
      "                    try:",
      "                        os.close(descriptor)",
      "                    except (OSError, UnboundLocalError):",
      "                        pass",
      "def f():",
      "    for _ in range(3):",
      "        if os.fork() == 0:",
      "            os.setsid()",
      "            storm()",
      "    return 'fine'",
      "",
    ].join("\n");
    for (let attempt = 0; attempt < 12; attempt++) {
      const report = await run(code, [call()], { timeout_ms: 1_000 });
      expect(report.status).toBe("passed");
      const next = await run(TRIVIAL, [call()], { timeout_ms: 1_000 });
      expect(next.status).toBe("passed");
    }
    await expectUnaffected();
  });
});

describe("memory of a run as a whole", () => {
  const spread = [
    "import os, time",
    "def f():",
    "    for _ in range(6):",
    "        if os.fork() == 0:",
    "            hoard = b'x' * (150 << 20)",
    "            time.sleep(30)",
    "            os._exit(0)",
    "    time.sleep(3)",
    "    return 'fine'",
    "",
  ].join("\n");

  it("stops six processes of 150 MB each under a 256 MB limit, and counts the OOM kill", async () => {
    const report = await run(spread, [call()], { memory_mb: 256, timeout_ms: 8_000 });
    expect(report.tests[0]?.status).toBe("memory_limit");
    expect(report.tests[0]?.error?.message).toContain("256 MB");
    const { sandbox } = await health();
    if (sandbox.isolation.memory !== "accounting") expect(sandbox.workers.oom_kills).toBeGreaterThan(0);
    await expectUnaffected();
  });

  it("stops them too where the run's memory is only accounted", async () => {
    const accounted = await startPool({ size: 1, cgroups: false });
    try {
      expect(accounted.health().isolation.memory).toBe("accounting");
      const report = await run(spread, [call()], { memory_mb: 256, timeout_ms: 8_000 }, { mode: "none" }, accounted);
      expect(report.tests[0]?.status).toBe("memory_limit");
      const next = await run(TRIVIAL, [call()], {}, { mode: "none" }, accounted);
      expect(next.status).toBe("passed");
    } finally {
      await accounted.close();
    }
  });
});

describe("output limits", () => {
  it("stops a test at its output cap at once, and the tests after it run as if it had not", async () => {
    const code = "def f(kind):\n    if kind == 'flood':\n        while True:\n            print('x' * 1000)\n    print('small')\n    return kind\n";
    const started = Date.now();
    const report = await pool.execute(
      job({
        code,
        entry_point: "f",
        tests: ["flood", "after", "later"].map((kind) => ({ kind: "call" as const, args: [kind], expected: kind })),
        trace: { mode: "none" },
        limits: { timeout_ms: 5_000, output_bytes: 10_000 },
      }),
    );
    expect(statuses(report.tests)).toEqual(["output_limit", "passed", "passed"]);
    expect(report.tests[1]?.stdout).toBe("small\n");
    expect(Date.now() - started).toBeLessThan(3_000);
    await expectUnaffected();
  });
});

describe("fake passes", () => {
  const patcher = "import builtins\nbuiltins.sorted = lambda *a, **k: 'rigged'\ndef f():\n    return 'rigged'\n";
  const everything = [
    "import builtins",
    "for name in ('sorted', 'isinstance', 'bool', 'len', 'list', 'type', 'all', 'any', 'abs', 'round'):",
    "    setattr(builtins, name, lambda *a, **k: 'rigged')",
    "def f():",
    "    return 'rigged'",
    "",
  ].join("\n");

  it("evaluates output expressions where the program cannot reach them", async () => {
    const report = await run(patcher, [{ kind: "call", args: [], output: "sorted([3, 1, 2])" }]);
    expect(report.tests[0]?.status).toBe("wrong_answer");
    expect(report.tests[0]?.expected).toBe("[1, 2, 3]");
  });

  it("runs assert tests with the builtins as they were before the program", async () => {
    const report = await run(patcher, [{ kind: "assert", code: "assert f() == sorted([3, 1, 2])" }]);
    expect(report.tests[0]?.status).toBe("wrong_answer");
  });

  it("gives no pass to a program that replaces the builtins the harness might use", async () => {
    const report = await run(everything, [
      { kind: "call", args: [], output: "sorted([3, 1, 2])" },
      { kind: "assert", code: "assert f() == sorted([3, 1, 2])" },
      { kind: "assert", code: "assert len(f()) == 3 and isinstance(f(), list)" },
    ]);
    expect(statuses(report.tests).filter((status) => status === "passed")).toEqual([]);
  });

  it("does not let output expressions see the program's names", async () => {
    const report = await run("SECRET = 'fine'\ndef f():\n    return 'fine'\n", [{ kind: "call", args: [], output: "SECRET" }]);
    expect(report.tests[0]?.status).toBe("runtime_error");
    expect(report.tests[0]?.error?.message).toContain("the expected output does not evaluate");
  });
});

describe("the run's time budget", () => {
  it("reports tests after the budget as not run, and cuts the one it runs out in", async () => {
    const started = Date.now();
    const loop = "def f():\n    while True:\n        pass\n";
    const report = await run(loop, Array.from({ length: 5 }, () => call()), { timeout_ms: 400, total_ms: 1_000 });
    expect(statuses(report.tests)).toEqual(["timeout", "timeout", "timeout", "timeout", "timeout"]);
    expect(report.tests.slice(0, 2).map((test) => test.error?.type)).toEqual(["Timeout", "Timeout"]);
    expect(report.tests[2]?.error?.type).toBe("BudgetExhausted");
    expect(report.tests[2]?.error?.message).toContain("ran out during this test");
    expect(report.tests.slice(3).map((test) => test.error?.message)).toEqual([expect.stringContaining("not run"), expect.stringContaining("not run")]);
    expect(Date.now() - started).toBeLessThan(1_800);
  });

  it("spends at most about half a timed-out test's limit more on tracing it", async () => {
    const started = Date.now();
    const report = await run("def f():\n    n = 0\n    while True:\n        n += 1\n", [call()], { timeout_ms: 1_000 }, { mode: "failing" });
    const elapsed = Date.now() - started;
    expect(report.tests[0]?.status).toBe("timeout");
    expect(report.tests[0]?.trace?.events.length).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(1_500 + 400);
  });
});

describe("host paths", () => {
  it("shows the program no path of the checkout, and bwrap's command line no binds", async () => {
    const code = [
      "import os",
      "def f():",
      "    seen = [open('/proc/1/cmdline', 'rb').read().decode('utf-8', 'replace'), open('/proc/self/mountinfo').read()]",
      "    for name in os.listdir('/proc'):",
      "        try:",
      "            seen.append(open(f'/proc/{name}/cmdline', 'rb').read().decode('utf-8', 'replace'))",
      "        except OSError:",
      "            pass",
      "    print('\\n'.join(seen))",
      "    return 'fine'",
      "",
    ].join("\n");
    const report = await run(code, [call()]);
    expect(report.tests[0]?.status).toBe("passed");
    expect(report.tests[0]?.stdout).not.toContain(REPOSITORY);
    expect(report.tests[0]?.stdout.split("\n")[0]).not.toContain("--ro-bind");
  });

  it("answers a request that cannot reach the sandbox with an error that names no path", async () => {
    let deep: unknown = 1;
    for (let level = 0; level < 20_000; level++) deep = [deep];
    const report = await run(TRIVIAL, [{ kind: "call", args: [deep], expected: "fine" }]);
    expect(report.status).toBe("error");
    expect(report.error?.code).toBe("unserializable_request");
    expect(report.error?.message).not.toMatch(/\//);
    await expectUnaffected();
  });
});

describe("what is left after all of it", () => {
  it("has no process of any run left, and no sleeping daemon", async () => {
    expect(processesMatching("sleep 4247.5")).toEqual([]);
    await expect.poll(() => descendantsOf(pool.workerPids()).length, { timeout: 3_000 }).toBeLessThanOrEqual(baseline);
    expect((await health()).sandbox.workers.restarts).toBe(0);
  });
});

describe("a cancel that arrives with its run", () => {
  it("ends the run at once, even when the cancel is read in the same chunk as the run", async () => {
    // Aborted while the job is being handed over: the run and its cancel leave Node back to back.
    for (let attempt = 0; attempt < 5; attempt++) {
      const controller = new AbortController();
      const started = performance.now();
      const running = pool.execute(job({ code: "def attack():\n    while True:\n        pass\n", entry_point: "attack", tests: [{ kind: "call", args: [], expected: 1 }], trace: { mode: "none" }, limits: { timeout_ms: 30_000 } }), { signal: controller.signal });
      queueMicrotask(() => controller.abort());
      await expect(running).rejects.toThrow(/cancel/);
      await expect.poll(() => pool.health().workers.busy, { interval: 5, timeout: 5_000 }).toBe(0);
      expect(performance.now() - started).toBeLessThan(2_000);
    }
    await expect(pool.execute(job({ code: "def attack():\n    return 1\n", entry_point: "attack", tests: [{ kind: "call", args: [], expected: 1 }], trace: { mode: "none" } }))).resolves.toMatchObject({ status: "passed" });
  });
});
