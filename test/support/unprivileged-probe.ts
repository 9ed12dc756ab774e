/**
 * Run as an unprivileged user by test/sandbox-unprivileged.test.ts: starts a
 * pool (bwrap with a user namespace, a nested user + pid + IPC + mount
 * namespace per run, memory by accounting) and prints what hostile programs
 * achieved, as JSON.
 */
import { PythonPool } from "../../src/sandbox/index.ts";
import { silentLogger } from "../../src/shared/logger.ts";
import { ExecuteRequest, toExecutionJob } from "../../src/shared/schema/requests.ts";

const pool = await PythonPool.start({ python: process.env["PYTHON"], size: 1, logger: silentLogger });
const shm = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n";
const programs: Record<string, { code: string; expected?: unknown; memory_mb?: number }> = {
  ok: { code: "def f():\n    return 1\n" },
  pid: { code: "import os\ndef f():\n    return os.getpid()\n" },
  killParent: { code: "import os, signal\ndef f():\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 1\n" },
  killAll: { code: "import os, signal\ndef f():\n    try:\n        os.kill(-1, signal.SIGKILL)\n    except OSError:\n        pass\n    return 1\n" },
  daemon: { code: "import subprocess\ndef f():\n    subprocess.Popen(['sleep', '4246.5'], start_new_session=True)\n    return 1\n" },
  shadow: { code: "def f():\n    return open('/etc/shadow').read()\n" },
  network: { code: "import socket\ndef f():\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n    return 1\n" },
  stopStorm: {
    code: "import os, signal\ndef f():\n    if os.fork() == 0:\n        while True:\n            for pid in range(-1, 100):\n                try:\n                    os.kill(pid, signal.SIGSTOP)\n                except OSError:\n                    pass\n    return 1\n",
  },
  afterStorm: { code: "def f():\n    return 1\n" },
  ipcPlant: { code: `${shm}def f():\n    return int(libc.shmget(0x7AC4, 4096, 0o1666) >= 0)\n` },
  ipcLook: { code: `${shm}def f():\n    return int(libc.shmget(0x7AC4, 0, 0) >= 0)\n`, expected: 0 },
  memorySpread: {
    code: "import os, time\ndef f():\n    for _ in range(5):\n        if os.fork() == 0:\n            hoard = b'x' * (120 << 20)\n            time.sleep(30)\n            os._exit(0)\n    time.sleep(3)\n    return 1\n",
    memory_mb: 256,
  },
};
const outcomes: Record<string, { status: string | undefined; actual: string | null | undefined }> = {};
for (const [name, program] of Object.entries(programs)) {
  const report = await pool.execute(
    toExecutionJob(
      ExecuteRequest.parse({
        code: program.code,
        entry_point: "f",
        tests: [{ kind: "call", args: [], expected: program.expected ?? 1 }],
        trace: { mode: "none" },
        limits: { timeout_ms: program.memory_mb === undefined ? 2_000 : 8_000, memory_mb: program.memory_mb ?? 512 },
      }),
    ),
  );
  outcomes[name] = { status: report.tests[0]?.status ?? report.status, actual: report.tests[0]?.actual };
}
const health = pool.health();
console.log(
  JSON.stringify({ uid: process.getuid?.(), isolation: health.isolation, runtime: health.runtime, restarts: health.workers.restarts, outcomes }),
);
await pool.close();
