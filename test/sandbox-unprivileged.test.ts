/**
 * The sandbox when the server does not run as root (most deployments): bwrap
 * in a user namespace, each run in a nested user + pid + IPC + mount
 * namespace, memory by accounting (no cgroup is delegated to `nobody`). Run
 * as `nobody` through runuser when the suite runs as root (as in CI); when
 * the suite itself runs unprivileged, every other sandbox test already runs
 * in this mode.
 *
 * `nobody` must be able to read the checkout. Where it cannot (a clone under
 * a 0700 directory, as `mktemp -d` makes), the checkout is bind-mounted at a
 * readable place in a private mount namespace for the probe; where even
 * that is impossible the test says why and skips.
 */
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { processesMatching } from "./support/processes.ts";

const root = process.getuid?.() === 0;
const runuser = ["/usr/sbin/runuser", "/sbin/runuser"].find((candidate) => existsSync(candidate));
const unshare = ["/usr/bin/unshare", "/bin/unshare"].find((candidate) => existsSync(candidate));
// The Debian interpreter: the pyenv ones live under /root, which nobody can read.
const python = ["/usr/bin/python3", "/usr/local/bin/python3"].find((candidate) => existsSync(candidate));
const repository = path.resolve(import.meta.dirname, "..");

/** `command` as nobody, after `prefix` (nothing, or what shows the checkout elsewhere). */
function asNobody(prefix: readonly string[], command: readonly string[]): [string, string[]] {
  const [program, ...args] = [...prefix, runuser as string, "-u", "nobody", "--", ...command];
  return [program as string, args];
}

/** Can `nobody` run the probe from `directory` (the checkout, or where it is bound)? */
function readableByNobody(directory: string, prefix: readonly string[] = []): boolean {
  const check = `test -r "${directory}/test/support/unprivileged-probe.ts" && test -x "${directory}/node_modules/.bin/tsx"`;
  try {
    execFileSync(...asNobody(prefix, ["sh", "-c", check]), { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The command prefix that shows `nobody` the checkout at `view`: none, or a private bind mount. */
function checkoutView(): { view: string; prefix: string[]; cleanup: () => void } | { reason: string } {
  if (readableByNobody(repository)) return { view: repository, prefix: [], cleanup: () => undefined };
  if (unshare === undefined) return { reason: `nobody cannot read ${repository} and unshare(1) is not installed` };
  const view = mkdtempSync(path.join(tmpdir(), "tracefix-checkout-"));
  chmodSync(view, 0o755);
  const prefix = [unshare, "--mount", "--propagation", "private", "--", "sh", "-c", 'mount --bind "$0" "$1" && shift && exec "$@"', repository, view];
  const cleanup = (): void => rmdirSync(view);
  if (!readableByNobody(view, prefix)) {
    cleanup();
    return { reason: `nobody cannot read ${repository}, not even bound at a readable place (are its files or node_modules unreadable?)` };
  }
  return { view, prefix, cleanup };
}

describe.skipIf(!root || runuser === undefined || python === undefined)("the sandbox run by an unprivileged user", () => {
  it("hides the fork server from each run, contains kills, daemons, signals, IPC and memory, and never restarts", async (context) => {
    const checkout = checkoutView();
    if ("reason" in checkout) {
      console.warn(`skipping the unprivileged sandbox test: ${checkout.reason}`);
      context.skip();
      return;
    }
    let stdout: string;
    try {
      const probe = ["env", "HOME=/tmp", "PATH=/usr/bin:/bin", `PYTHON=${python}`, path.join(checkout.view, "node_modules/.bin/tsx")];
      probe.push(path.join(checkout.view, "test/support/unprivileged-probe.ts"));
      ({ stdout } = await promisify(execFile)(...asNobody(checkout.prefix, probe), { cwd: "/tmp", timeout: 90_000 }));
    } finally {
      checkout.cleanup();
    }
    const probe = JSON.parse(stdout.trim().split("\n").at(-1) as string) as {
      uid: number;
      isolation: { kind: string; run_namespaces: boolean; kill: string; memory: string };
      runtime: { nested_namespaces: boolean };
      restarts: number;
      outcomes: Record<string, { status: string; actual: string | null }>;
    };
    expect(probe.uid).not.toBe(0);
    expect(probe.isolation.kind).toBe("bwrap");
    expect(probe.isolation.run_namespaces).toBe(true);
    expect(probe.isolation.kill).toBe("pid-namespace");
    expect(probe.isolation.memory).toBe("accounting");
    expect(probe.runtime.nested_namespaces).toBe(true);
    expect(probe.outcomes["ok"]?.status).toBe("passed");
    // Each run is pid 1 of its own namespace: the fork server is out of sight.
    expect(probe.outcomes["pid"]?.actual).toBe("1");
    expect(probe.outcomes["killParent"]?.status).toBe("passed");
    expect(probe.outcomes["killAll"]?.status).toBe("passed");
    expect(probe.outcomes["shadow"]?.status).toBe("runtime_error");
    expect(probe.outcomes["network"]?.status).toBe("runtime_error");
    expect(probe.outcomes["stopStorm"]?.status).toBe("passed");
    expect(probe.outcomes["afterStorm"]?.status).toBe("passed");
    expect(probe.outcomes["ipcPlant"]?.status).toBe("passed");
    expect(probe.outcomes["ipcLook"]?.status).toBe("passed");
    expect(probe.outcomes["memorySpread"]?.status).toBe("memory_limit");
    expect(probe.restarts).toBe(0);
    expect(processesMatching("sleep 4246.5")).toEqual([]);
  });
});
