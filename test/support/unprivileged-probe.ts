/**
 * Run as an unprivileged user by test/sandbox-unprivileged.test.ts: starts a
 * pool (bwrap with a user namespace, a nested user + pid namespace per run)
 * and prints what hostile programs achieved, as JSON.
 */
import { PythonPool } from "../../src/sandbox/index.ts";
import { silentLogger } from "../../src/shared/logger.ts";
import { ExecuteRequest, toExecutionJob } from "../../src/shared/schema/requests.ts";

const pool = await PythonPool.start({ python: process.env["PYTHON"], size: 1, logger: silentLogger });
const programs: Record<string, string> = {
  ok: "def f():\n    return 1\n",
  pid: "import os\ndef f():\n    return os.getpid()\n",
  killParent: "import os, signal\ndef f():\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 1\n",
  killAll: "import os, signal\ndef f():\n    try:\n        os.kill(-1, signal.SIGKILL)\n    except OSError:\n        pass\n    return 1\n",
  daemon: "import subprocess\ndef f():\n    subprocess.Popen(['sleep', '4246.5'], start_new_session=True)\n    return 1\n",
  shadow: "def f():\n    return open('/etc/shadow').read()\n",
  network: "import socket\ndef f():\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n    return 1\n",
};
const outcomes: Record<string, { status: string | undefined; actual: string | null | undefined }> = {};
for (const [name, code] of Object.entries(programs)) {
  const report = await pool.execute(
    toExecutionJob(ExecuteRequest.parse({ code, entry_point: "f", tests: [{ kind: "call", args: [], expected: 1 }], trace: { mode: "none" }, limits: { timeout_ms: 2_000 } })),
  );
  outcomes[name] = { status: report.tests[0]?.status ?? report.status, actual: report.tests[0]?.actual };
}
const health = pool.health();
console.log(JSON.stringify({ uid: process.getuid?.(), isolation: health.isolation.kind, runtime: health.runtime, restarts: health.workers.restarts, outcomes }));
await pool.close();
