/**
 * Memory cgroups left by a server that died without removing them (kill -9)
 * are removed by the next server's start, so restarts do not pile them up.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";

import { describe, expect, it } from "vitest";

import { detectCgroups } from "../src/sandbox/python/cgroup.ts";

// Above the kernel's largest pid (4,194,304): no process can have it.
const GONE_PID = 4_194_400;
const probe = detectCgroups(GONE_PID);
if (probe.cgroups === undefined) console.warn(`no manageable memory cgroup here (${probe.reason}): the stale-cgroup test is skipped`);

describe.skipIf(probe.cgroups === undefined)("memory cgroups of dead servers", () => {
  it("are removed, tree and all, when the next server detects its cgroups; its own are made", async () => {
    const stale = probe.cgroups?.directory as string;
    mkdirSync(path.join(stale, "worker-0", "run"), { recursive: true });
    expect(existsSync(stale)).toBe(true);
    const next = detectCgroups(GONE_PID + 1); // another server (also no live process: its own dir is kept all the same)
    expect(existsSync(stale)).toBe(false);
    expect(next.cgroups === undefined ? false : existsSync(next.cgroups.directory)).toBe(true);
    await next.cgroups?.remove();
  });
});
