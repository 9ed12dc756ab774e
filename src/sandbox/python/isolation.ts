/**
 * How a fork server is started: inside bubblewrap where it works, else as a
 * plain process with rlimits only. Decided once at start-up by actually
 * starting the sandbox (a bwrap that is installed but blocked by the kernel
 * or a container is detected, not assumed). See architecture/sandbox.md.
 *
 * bwrap gets its arguments through a descriptor (`--args 3`): its command
 * line, which every process in the sandbox can read as /proc/1/cmdline,
 * would otherwise list each bind mount with its host path.
 */
import { execFile, spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { WRAPPER, type MemoryControl, type WorkerCgroups } from "./cgroup.ts";
import type { PythonInterpreter } from "./interpreter.ts";

const run = promisify(execFile);

export type IsolationKind = "bwrap" | "rlimits";

export interface ForkServerConfig {
  readonly work_base: string;
  readonly scrub_paths: readonly string[];
  readonly kill_mode: "all" | "group";
  readonly run_uid: number | null;
  /** Each run in its own user + pid + IPC + mount namespace, where the kernel allows (the fork server probes). */
  readonly nested_namespaces: boolean;
  /** Those runs get a tmpfs of their own where the kernel allows (else their files go under work_base, removed after each run). */
  readonly run_tmpfs_allowed: boolean;
  /** The fork server is alone in its pid namespace (bwrap): kill(-1) reaches only its runs. */
  readonly own_pid_namespace: boolean;
  /** `oom_events`: the run cgroup's OOM-kill counter; `run_procs`: its cgroup.procs, which each run's intermediate joins. */
  readonly memory: { readonly mode: MemoryControl; readonly oom_events: string | null; readonly run_procs: string | null };
  readonly once?: boolean;
}

export interface LaunchCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** NUL-separated arguments the command reads from descriptor 3 (bwrap's --args 3). */
  readonly argsData?: Buffer;
}

export interface IsolationPlan {
  readonly kind: IsolationKind;
  /** Why bubblewrap is not used, when it is not. */
  readonly fallbackReason: string | undefined;
  readonly runsAsRoot: boolean;
  readonly features: readonly string[];
  /** How a run's memory is bounded as a whole; `memoryReason` says why not by a cgroup. */
  readonly memory: MemoryControl;
  readonly memoryReason: string | undefined;
  /** `once`: the fork server answers one request and exits (the fresh-interpreter baseline of bench/sandbox.ts). */
  launch(slot: number, options?: { readonly once?: boolean }): LaunchCommand;
}

export interface IsolationOptions {
  readonly interpreter: PythonInterpreter;
  /** Directory holding forkserver.py and tracefix_harness/ (a private copy: see pool.ts). */
  readonly harnessDirectory: string;
  /** "auto" uses bwrap when it works; "bwrap" requires it; "rlimits" skips it. */
  readonly prefer?: "auto" | "bwrap" | "rlimits";
  /** First uid for per-worker sandbox users when the server runs as root. */
  readonly uidBase?: number;
  /** Per-run namespaces (default true); false forces the fallback the kernel would otherwise decide. */
  readonly runNamespaces?: boolean;
  /** A tmpfs of each run's own (default true); false forces the fallback for a kernel that refuses it (runs' files then go under work_base). */
  readonly runTmpfs?: boolean;
  /** Memory cgroups for the workers, where this server can manage them. */
  readonly cgroups?: WorkerCgroups | undefined;
  readonly cgroupReason?: string | undefined;
}

const SANDBOX_HARNESS = "/opt/tracefix";
const SANDBOX_OOM_EVENTS = "/run/tracefix/oom-events";
const SANDBOX_RUN_PROCS = "/run/tracefix/run-procs";
const SYSTEM_DIRECTORIES = ["/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc"];

function defaultUidBase(): number {
  // Far above any real account; spread by pid so two servers on a host do not share uids.
  return 3_000_000_000 + (process.pid % 100_000) * 64;
}

/** Starts a launch command, handing it its descriptor-3 arguments when it has some. */
export function spawnLaunch(launch: LaunchCommand, stdio: StdioOptions = ["pipe", "pipe", "pipe"]): ChildProcess {
  const streams = [...(stdio as unknown[])];
  if (launch.argsData !== undefined) streams[3] = "pipe";
  const child = spawn(launch.command, launch.args, { env: launch.env, stdio: streams as StdioOptions });
  const argsStream = child.stdio[3] as NodeJS.WritableStream | null | undefined;
  if (launch.argsData !== undefined && argsStream) {
    argsStream.on("error", () => undefined);
    argsStream.end(launch.argsData);
  }
  return child;
}

function namespaceArguments(runsAsRoot: boolean): string[] {
  const args = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"];
  args.push("--hostname", "sandbox");
  if (runsAsRoot) {
    // Root keeps only what it needs: to hand children their own uid, to end
    // their processes without ever taking their uid, and to map uid 0 in
    // the user namespace the fork server then moves into (CAP_SETFCAP, used
    // once by a helper at start-up; past that point the fork server holds
    // no capability outside its own namespace).
    args.push("--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL", "--cap-add", "CAP_SETFCAP");
  } else {
    args.push("--unshare-user");
  }
  return args;
}

function interpreterBinds(options: IsolationOptions, bound: Set<string>): string[] {
  const args: string[] = [];
  const created = new Set<string>();
  for (const prefix of options.interpreter.prefixes) {
    const covered = [...bound].some((directory) => prefix === directory || prefix.startsWith(`${directory}/`));
    if (covered || !existsSync(prefix)) continue;
    // bwrap would create the missing parents (/root, /root/.pyenv, …) with a
    // mode the sandbox user cannot traverse; create them readable first.
    for (let ancestor = path.dirname(prefix); ancestor !== "/"; ancestor = path.dirname(ancestor)) created.add(ancestor);
    bound.add(prefix);
  }
  for (const ancestor of [...created].sort((left, right) => left.length - right.length)) args.push("--perms", "0755", "--dir", ancestor);
  for (const prefix of [...bound].filter((directory) => !SYSTEM_DIRECTORIES.includes(directory))) args.push("--ro-bind", prefix, prefix);
  return args;
}

function systemBinds(bound: Set<string>): string[] {
  const args: string[] = [];
  for (const directory of SYSTEM_DIRECTORIES) {
    if (!existsSync(directory)) continue;
    if (lstatSync(directory).isSymbolicLink()) {
      args.push("--symlink", readlinkSync(directory), directory);
    } else {
      args.push("--ro-bind", directory, directory);
      bound.add(directory);
    }
  }
  return args;
}

function bwrapArguments(options: IsolationOptions, runsAsRoot: boolean): string[] {
  const bound = new Set<string>();
  const args = [...namespaceArguments(runsAsRoot), ...systemBinds(bound), ...interpreterBinds(options, bound)];
  args.push("--ro-bind", options.harnessDirectory, SANDBOX_HARNESS);
  args.push("--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/dev/shm");
  args.push("--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8");
  args.push("--setenv", "HOME", "/tmp", "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--chdir", "/tmp");
  return args;
}

function forkServerArguments(harnessDirectory: string, config: ForkServerConfig): string[] {
  return ["-I", "-B", path.join(harnessDirectory, "forkserver.py"), JSON.stringify(config)];
}

function nulSeparated(args: readonly string[]): Buffer {
  return Buffer.from(args.map((arg) => `${arg}\0`).join(""));
}

async function bwrapWorks(bwrap: string, args: readonly string[], interpreter: PythonInterpreter): Promise<string | undefined> {
  try {
    const { stdout } = await run(bwrap, [...args, interpreter.executable, "-I", "-c", "import os; print(os.getpid())"], {
      timeout: 15_000,
      env: { PATH: "/usr/bin:/bin" },
    });
    return stdout.trim() === "2" ? undefined : `unexpected probe output ${JSON.stringify(stdout.trim())}`;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    return stderr || String(error);
  }
}

async function findBwrap(): Promise<string | undefined> {
  for (const directory of (process.env["PATH"] ?? "/usr/bin:/bin").split(path.delimiter)) {
    const candidate = path.join(directory, "bwrap");
    if (existsSync(candidate)) return candidate;
  }
  return existsSync("/usr/bin/bwrap") ? "/usr/bin/bwrap" : undefined;
}

/** A command run inside the slot's cgroup: the wrapper joins it, then execs the command. */
function inCgroup(options: IsolationOptions, slot: number, command: string, args: readonly string[]): { command: string; args: string[] } {
  if (options.cgroups === undefined) return { command, args: [...args] };
  return { command: "/bin/sh", args: ["-c", WRAPPER, options.cgroups.worker(slot).serverProcsFile, command, ...args] };
}

function memoryConfig(options: IsolationOptions, slot: number, insideBwrap: boolean): ForkServerConfig["memory"] {
  if (options.cgroups === undefined) return { mode: "accounting", oom_events: null, run_procs: null };
  const worker = options.cgroups.worker(slot);
  return {
    mode: options.cgroups.control,
    oom_events: insideBwrap ? SANDBOX_OOM_EVENTS : worker.oomEventsFile,
    run_procs: insideBwrap ? SANDBOX_RUN_PROCS : worker.runProcsFile,
  };
}

/** The run cgroup's files the fork server and each run's intermediate need inside the sandbox. */
function cgroupBinds(options: IsolationOptions, slot: number): string[] {
  if (options.cgroups === undefined) return [];
  const worker = options.cgroups.worker(slot);
  return ["--ro-bind", worker.oomEventsFile, SANDBOX_OOM_EVENTS, "--bind", worker.runProcsFile, SANDBOX_RUN_PROCS];
}

function bwrapPlan(options: IsolationOptions, bwrap: string, args: readonly string[], runsAsRoot: boolean, uidBase: number): IsolationPlan {
  const memory = options.cgroups?.control ?? "accounting";
  const features = [
    "bwrap",
    "own pid/net/ipc/uts namespaces",
    "read-only system directories",
    runsAsRoot ? "per-worker uid" : "user namespace",
    "per-run user/pid/ipc/mount namespaces where the kernel allows",
    `run memory: ${memory}`,
    "rlimits",
  ];
  return {
    kind: "bwrap",
    fallbackReason: undefined,
    runsAsRoot,
    features,
    memory,
    memoryReason: options.cgroupReason,
    launch(slot: number, launchOptions = {}): LaunchCommand {
      const config: ForkServerConfig = {
        work_base: "/tmp/work",
        scrub_paths: ["/tmp", "/dev/shm"],
        kill_mode: "all",
        run_uid: runsAsRoot ? uidBase + slot : null,
        nested_namespaces: options.runNamespaces !== false,
        run_tmpfs_allowed: options.runTmpfs !== false,
        own_pid_namespace: true,
        memory: memoryConfig(options, slot, true),
        once: launchOptions.once === true,
      };
      // bwrap takes options from the descriptor, the command from its own argv.
      const command = [interpreter(options), ...forkServerArguments(SANDBOX_HARNESS, config)];
      return {
        ...inCgroup(options, slot, bwrap, ["--args", "3", ...command]),
        env: { PATH: "/usr/bin:/bin" },
        argsData: nulSeparated([...args, ...cgroupBinds(options, slot)]),
      };
    },
  };
}

function interpreter(options: IsolationOptions): string {
  return options.interpreter.executable;
}

function rlimitsPlan(options: IsolationOptions, fallbackReason: string, runsAsRoot: boolean, uidBase: number): IsolationPlan {
  const memory = options.cgroups?.control ?? "accounting";
  return {
    kind: "rlimits",
    fallbackReason,
    runsAsRoot,
    features: [runsAsRoot ? "per-worker uid" : "no uid of its own", "per-run user/pid/ipc/mount namespaces where the kernel allows", `run memory: ${memory}`, "rlimits"],
    memory,
    memoryReason: options.cgroupReason,
    launch(slot: number, launchOptions = {}): LaunchCommand {
      const config: ForkServerConfig = {
        work_base: path.join(tmpdir(), `tracefix-${process.pid}-${slot}`),
        scrub_paths: [],
        kill_mode: runsAsRoot ? "all" : "group",
        run_uid: runsAsRoot ? uidBase + slot : null,
        nested_namespaces: options.runNamespaces !== false,
        run_tmpfs_allowed: options.runTmpfs !== false,
        own_pid_namespace: false,
        memory: memoryConfig(options, slot, false),
        once: launchOptions.once === true,
      };
      return {
        ...inCgroup(options, slot, interpreter(options), forkServerArguments(options.harnessDirectory, config)),
        env: { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" },
      };
    },
  };
}

export async function planIsolation(options: IsolationOptions): Promise<IsolationPlan> {
  const runsAsRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const uidBase = options.uidBase ?? defaultUidBase();
  const prefer = options.prefer ?? "auto";
  if (prefer === "rlimits") return rlimitsPlan(options, "disabled by configuration", runsAsRoot, uidBase);
  const bwrap = await findBwrap();
  let fallbackReason = "bwrap is not installed";
  if (bwrap !== undefined) {
    const args = bwrapArguments(options, runsAsRoot);
    const failure = await bwrapWorks(bwrap, args, options.interpreter);
    if (failure === undefined) return bwrapPlan(options, bwrap, args, runsAsRoot, uidBase);
    fallbackReason = failure;
  }
  if (prefer === "bwrap") throw new Error(`bubblewrap was required but does not work here: ${fallbackReason}`);
  return rlimitsPlan(options, fallbackReason, runsAsRoot, uidBase);
}
