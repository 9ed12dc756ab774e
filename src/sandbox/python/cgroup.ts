/**
 * Memory cgroups for the Python workers: RLIMIT_AS bounds one process, a
 * run can fork many; a cgroup bounds them all (and the tmpfs and shared
 * memory pages they touch).
 *
 * Layout, below the server's own memory cgroup:
 *
 *     tracefix-<pid>/worker-<slot>/server   the fork server (and bwrap)
 *     tracefix-<pid>/worker-<slot>/run      the runs, limited
 *
 * A worker is started through a tiny shell wrapper that writes its own pid
 * into `server` and then execs bwrap (or Python), so no process of the
 * worker ever runs outside the worker's cgroup. Each run's intermediate
 * process moves itself into `run` (its cgroup.procs is bound into the
 * sandbox) while it is still a spare, before any of the program exists.
 * Before each job the pool sets `run`'s limit to the job's memory_mb plus
 * its output allowance and a little for the harness. The kernel's OOM
 * killer then only ever picks among the run's processes, never the fork
 * server; the fork server reads `run`'s OOM-kill counter (bound read-only
 * into the sandbox) to tell which test it hit.
 *
 * cgroup v1 (the memory controller mounted on its own, writable as root) and
 * v2 (the unified hierarchy, where the memory controller is delegated to the
 * server's cgroup) are supported; elsewhere `detectCgroups` says why not and
 * the fork server falls back to accounting.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export type MemoryControl = "cgroup-v1" | "cgroup-v2" | "accounting";

interface Hierarchy {
  readonly version: 1 | 2;
  /** The directory of the server's own cgroup in this hierarchy. */
  readonly own: string;
}

/** File names that differ between v1 and v2. */
interface Files {
  readonly limit: string;
  readonly usage: string;
  readonly oomEvents: string;
  readonly swapLimit: string | undefined;
}

const FILES: Record<1 | 2, Files> = {
  1: { limit: "memory.limit_in_bytes", usage: "memory.usage_in_bytes", oomEvents: "memory.oom_control", swapLimit: "memory.memsw.limit_in_bytes" },
  2: { limit: "memory.max", usage: "memory.current", oomEvents: "memory.events", swapLimit: "memory.swap.max" },
};

/** One worker's cgroups: `server` for the fork server, `run` (limited) for its runs. */
export class WorkerCgroup {
  readonly directory: string;
  private readonly files: Files;
  private limitBytes: number | undefined;

  constructor(directory: string, version: 1 | 2) {
    this.directory = directory;
    this.files = FILES[version];
    mkdirSync(directory, { recursive: true });
    // v2 lets a cgroup give controllers to its children only while it holds no process itself.
    if (version === 2) writeFileSync(path.join(directory, "cgroup.subtree_control"), "+memory");
    mkdirSync(this.server, { recursive: true });
    mkdirSync(this.run, { recursive: true });
  }

  get server(): string {
    return path.join(this.directory, "server");
  }

  get run(): string {
    return path.join(this.directory, "run");
  }

  /** Where the worker's wrapper writes its pid. */
  get serverProcsFile(): string {
    return path.join(this.server, "cgroup.procs");
  }

  /** Where each run's intermediate process writes "0" (itself). */
  get runProcsFile(): string {
    return path.join(this.run, "cgroup.procs");
  }

  get oomEventsFile(): string {
    return path.join(this.run, this.files.oomEvents);
  }

  /** Bytes the runs' processes use now, or undefined when unreadable. */
  usage(): number | undefined {
    try {
      return Number(readFileSync(path.join(this.run, this.files.usage), "utf8").trim());
    } catch {
      return undefined;
    }
  }

  /** The kernel's count of processes OOM-killed in this cgroup. */
  oomKills(): number | undefined {
    try {
      const match = /^oom_kill (\d+)$/m.exec(readFileSync(this.oomEventsFile, "utf8"));
      return match?.[1] === undefined ? undefined : Number(match[1]);
    } catch {
      return undefined;
    }
  }

  /** The next setLimit writes whatever it is given (a new worker: someone may have changed the file). */
  forgetLimit(): void {
    this.limitBytes = undefined;
  }

  /** Sets the limit (no write when it is unchanged); false when the kernel refused it. */
  setLimit(bytes: number): boolean {
    if (this.limitBytes === bytes) return true;
    try {
      // v1 refuses a memory+swap limit below the memory limit, and a memory
      // limit above the memory+swap one: the swap limit is written on both
      // sides, one of the two writes succeeds.
      this.writeSwapLimit(bytes);
      writeFileSync(path.join(this.run, this.files.limit), String(bytes));
      this.writeSwapLimit(bytes);
      this.limitBytes = bytes;
      return true;
    } catch {
      return false;
    }
  }

  private writeSwapLimit(bytes: number): void {
    if (this.files.swapLimit === undefined) return;
    const file = path.join(this.run, this.files.swapLimit);
    if (!existsSync(file)) return;
    try {
      // v2 counts swap on its own (none at all for a run); v1 counts memory + swap.
      writeFileSync(file, this.files.swapLimit === "memory.swap.max" ? "0" : String(bytes));
    } catch {
      // no swap accounting here: the memory limit alone holds
    }
  }

  remove(): void {
    for (const directory of [this.run, this.server, this.directory]) {
      try {
        rmdirSync(directory);
      } catch {
        // still busy (processes exiting) or already gone
      }
    }
  }
}

export class WorkerCgroups {
  readonly control: "cgroup-v1" | "cgroup-v2";
  /** This server's own directory (`tracefix-<pid>`) in the hierarchy. */
  readonly directory: string;
  private readonly base: string;
  private readonly version: 1 | 2;
  private readonly workers = new Map<number, WorkerCgroup>();

  constructor(hierarchy: Hierarchy, base: string) {
    this.control = hierarchy.version === 1 ? "cgroup-v1" : "cgroup-v2";
    this.directory = base;
    this.base = base;
    this.version = hierarchy.version;
  }

  worker(slot: number): WorkerCgroup {
    let worker = this.workers.get(slot);
    if (worker === undefined) {
      worker = new WorkerCgroup(path.join(this.base, `worker-${slot}`), this.version);
      this.workers.set(slot, worker);
    }
    return worker;
  }

  /** Removes every worker's cgroup and the server's own directory (retrying while processes exit). */
  async remove(): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      for (const worker of this.workers.values()) worker.remove();
      try {
        rmdirSync(this.base);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}

/** Where each cgroup hierarchy is mounted, from /proc/self/mountinfo. */
function mountPoints(): { v1Memory: string | undefined; v2: string | undefined } {
  let v1Memory: string | undefined;
  let v2: string | undefined;
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [before, after] = line.split(" - ");
    if (before === undefined || after === undefined) continue;
    const mountPoint = before.split(" ")[4];
    const [fsType, , superOptions] = after.split(" ");
    if (fsType === "cgroup" && superOptions?.split(",").includes("memory")) v1Memory ??= mountPoint;
    if (fsType === "cgroup2") v2 ??= mountPoint;
  }
  return { v1Memory, v2 };
}

function ownHierarchies(): Hierarchy[] {
  const mounts = mountPoints();
  const found: Hierarchy[] = [];
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [id, controllers, own] = line.split(":");
    if (own === undefined) continue;
    if (controllers?.split(",").includes("memory") && mounts.v1Memory !== undefined) {
      found.push({ version: 1, own: path.join(mounts.v1Memory, own) });
    }
    if (id === "0" && controllers === "" && mounts.v2 !== undefined) found.push({ version: 2, own: path.join(mounts.v2, own) });
  }
  return found;
}

/** v2: the memory controller must be on for the children of the server's cgroup (delegation). */
function enableV2Memory(own: string, base: string): void {
  const controllers = readFileSync(path.join(own, "cgroup.controllers"), "utf8").split(/\s+/);
  if (!controllers.includes("memory")) throw new Error("the memory controller is not delegated to this cgroup");
  const subtree = readFileSync(path.join(own, "cgroup.subtree_control"), "utf8").split(/\s+/);
  if (!subtree.includes("memory")) writeFileSync(path.join(own, "cgroup.subtree_control"), "+memory");
  mkdirSync(base, { recursive: true });
  writeFileSync(path.join(base, "cgroup.subtree_control"), "+memory");
}

/** A process can really join a worker's cgroups through the wrapper, and a limit can be set. */
function probe(cgroups: WorkerCgroups): void {
  const worker = cgroups.worker(-1);
  try {
    if (!worker.setLimit(256 << 20)) throw new Error("the memory limit cannot be set");
    for (const procs of [worker.serverProcsFile, worker.runProcsFile]) {
      const result = spawnSync("/bin/sh", ["-c", WRAPPER, procs, "/bin/true"], { timeout: 5_000 });
      if (result.status !== 0) throw new Error(`a process cannot join the cgroup: ${String(result.stderr).trim()}`);
    }
  } finally {
    worker.remove();
  }
}

/** The worker's wrapper: join the cgroup named by $0, then become the real command. */
export const WRAPPER = 'echo $$ > "$0" && exec "$@"';

export type CgroupDetection = { readonly cgroups: WorkerCgroups; readonly reason?: undefined } | { readonly cgroups?: undefined; readonly reason: string };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes a cgroup tree bottom-up (cgroup directories go only by rmdir, and only when empty of processes). */
function removeTree(directory: string): void {
  for (const entry of readdirSync(directory, { withFileTypes: true })) if (entry.isDirectory()) removeTree(path.join(directory, entry.name));
  rmdirSync(directory);
}

/**
 * The cgroups of servers that died without removing theirs (SIGKILL): a
 * supervisor that restarts tracefix that way would otherwise pile them up.
 * Only those whose server process is gone and that hold no process.
 */
export function removeStaleCgroups(parent: string, serverPid = process.pid): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return removed;
  }
  for (const name of entries) {
    const pid = /^tracefix-(\d+)$/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === serverPid || alive(Number(pid))) continue;
    try {
      removeTree(path.join(parent, name));
      removed.push(name);
    } catch {
      // a process still in it, or not ours to remove: left alone
    }
  }
  return removed;
}

/** The first memory cgroup hierarchy this server can manage, or why there is none. */
export function detectCgroups(serverPid = process.pid): CgroupDetection {
  const reasons: string[] = [];
  let hierarchies: Hierarchy[];
  try {
    hierarchies = ownHierarchies();
  } catch (error) {
    return { reason: `cannot read the process's cgroups: ${String(error)}` };
  }
  for (const hierarchy of hierarchies) {
    removeStaleCgroups(hierarchy.own, serverPid);
    const base = path.join(hierarchy.own, `tracefix-${serverPid}`);
    try {
      if (hierarchy.version === 2) enableV2Memory(hierarchy.own, base);
      else mkdirSync(base, { recursive: true });
      const cgroups = new WorkerCgroups(hierarchy, base);
      probe(cgroups);
      return { cgroups };
    } catch (error) {
      reasons.push(`cgroup v${hierarchy.version}: ${(error as Error).message}`);
      try {
        rmdirSync(base);
      } catch {
        // not created, or not empty
      }
    }
  }
  return { reason: reasons.length === 0 ? "no memory cgroup hierarchy is mounted" : reasons.join("; ") };
}
