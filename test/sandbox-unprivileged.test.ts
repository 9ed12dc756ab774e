/**
 * The sandbox when the server does not run as root (most deployments): bwrap
 * in a user namespace, each run in a nested user + pid namespace. Run as
 * `nobody` through runuser when the suite runs as root (as in CI); when the
 * suite itself runs unprivileged, every other sandbox test already runs in
 * this mode.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { processesMatching } from "./support/processes.ts";

const root = process.getuid?.() === 0;
const runuser = ["/usr/sbin/runuser", "/sbin/runuser"].find((candidate) => existsSync(candidate));
// The Debian interpreter: the pyenv ones live under /root, which nobody can read.
const python = ["/usr/bin/python3", "/usr/local/bin/python3"].find((candidate) => existsSync(candidate));

describe.skipIf(!root || runuser === undefined || python === undefined)("the sandbox run by an unprivileged user", () => {
  it("hides the fork server from each run, contains kills and daemons, and never restarts", async () => {
    const repository = path.resolve(import.meta.dirname, "..");
    const { stdout } = await promisify(execFile)(
      runuser as string,
      ["-u", "nobody", "--", "env", "HOME=/tmp", "PATH=/usr/bin:/bin", `PYTHON=${python}`, path.join(repository, "node_modules/.bin/tsx"), path.join(repository, "test/support/unprivileged-probe.ts")],
      { cwd: "/tmp", timeout: 60_000 },
    );
    const probe = JSON.parse(stdout.trim().split("\n").at(-1) as string) as {
      uid: number;
      isolation: string;
      runtime: { nested_namespaces: boolean };
      restarts: number;
      outcomes: Record<string, { status: string; actual: string | null }>;
    };
    expect(probe.uid).not.toBe(0);
    expect(probe.isolation).toBe("bwrap");
    expect(probe.runtime.nested_namespaces).toBe(true);
    expect(probe.outcomes["ok"]?.status).toBe("passed");
    // Each run is pid 1 of its own namespace: the fork server is out of sight.
    expect(probe.outcomes["pid"]?.actual).toBe("1");
    expect(probe.outcomes["killParent"]?.status).toBe("passed");
    expect(probe.outcomes["killAll"]?.status).toBe("passed");
    expect(probe.outcomes["shadow"]?.status).toBe("runtime_error");
    expect(probe.outcomes["network"]?.status).toBe("runtime_error");
    expect(probe.restarts).toBe(0);
    expect(processesMatching("sleep 4246.5")).toEqual([]);
  });
});
