/**
 * How a fork server is started: inside bubblewrap where it works, else as a
 * plain process with rlimits only. Decided once at start-up by actually
 * starting the sandbox (a bwrap that is installed but blocked by the kernel
 * or a container is detected, not assumed). See architecture/sandbox.md.
 */
import { execFile } from "node:child_process";
import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import type { PythonInterpreter } from "./interpreter.ts";

const run = promisify(execFile);

export type IsolationKind = "bwrap" | "rlimits";

export interface ForkServerConfig {
  readonly work_base: string;
  readonly scrub_paths: readonly string[];
  readonly kill_mode: "all" | "group";
  readonly run_uid: number | null;
  readonly nested_namespaces: boolean;
  /** The fork server is alone in its pid namespace (bwrap): kill(-1) reaches only its runs. */
  readonly own_pid_namespace: boolean;
  readonly once?: boolean;
}

export interface LaunchCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
}

export interface IsolationPlan {
  readonly kind: IsolationKind;
  /** Why bubblewrap is not used, when it is not. */
  readonly fallbackReason: string | undefined;
  readonly runsAsRoot: boolean;
  readonly features: readonly string[];
  /** `once`: the fork server answers one request and exits (the fresh-interpreter baseline of bench/sandbox.ts). */
  launch(slot: number, options?: { readonly once?: boolean }): LaunchCommand;
}

export interface IsolationOptions {
  readonly interpreter: PythonInterpreter;
  /** Directory holding forkserver.py and tracefix_harness/. */
  readonly harnessDirectory: string;
  /** "auto" uses bwrap when it works; "bwrap" requires it; "rlimits" skips it. */
  readonly prefer?: "auto" | "bwrap" | "rlimits";
  /** First uid for per-worker sandbox users when the server runs as root. */
  readonly uidBase?: number;
}

const SANDBOX_HARNESS = "/opt/tracefix";
const SYSTEM_DIRECTORIES = ["/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc"];

function defaultUidBase(): number {
  // Far above any real account; spread by pid so two servers on a host do not share uids.
  return 3_000_000_000 + (process.pid % 100_000) * 64;
}

function bwrapArguments(options: IsolationOptions, runsAsRoot: boolean): string[] {
  const args = [
    "--die-with-parent",
    "--new-session",
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--hostname",
    "sandbox",
  ];
  if (runsAsRoot) {
    // Root keeps only what it needs to hand children their own uid.
    args.push("--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID");
  } else {
    args.push("--unshare-user");
  }
  const bound = new Set<string>();
  for (const directory of SYSTEM_DIRECTORIES) {
    if (!existsSync(directory)) continue;
    const stat = lstatSync(directory);
    if (stat.isSymbolicLink()) {
      args.push("--symlink", readlinkSync(directory), directory);
    } else {
      args.push("--ro-bind", directory, directory);
      bound.add(directory);
    }
  }
  const created = new Set<string>();
  for (const prefix of options.interpreter.prefixes) {
    const covered = [...bound].some((directory) => prefix === directory || prefix.startsWith(`${directory}/`));
    if (covered || !existsSync(prefix)) continue;
    // bwrap would create the missing parents (/root, /root/.pyenv, …) with a
    // mode the sandbox user cannot traverse; create them readable first.
    for (let ancestor = path.dirname(prefix); ancestor !== "/"; ancestor = path.dirname(ancestor)) {
      if (!created.has(ancestor)) {
        created.add(ancestor);
      }
    }
    bound.add(prefix);
  }
  for (const ancestor of [...created].sort((left, right) => left.length - right.length)) {
    args.push("--perms", "0755", "--dir", ancestor);
  }
  for (const prefix of [...bound].filter((directory) => !SYSTEM_DIRECTORIES.includes(directory))) {
    args.push("--ro-bind", prefix, prefix);
  }
  args.push("--ro-bind", options.harnessDirectory, SANDBOX_HARNESS);
  args.push("--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/dev/shm");
  args.push("--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8");
  args.push("--setenv", "HOME", "/tmp", "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--chdir", "/tmp");
  return args;
}

function forkServerArguments(harnessDirectory: string, config: ForkServerConfig): string[] {
  return ["-I", "-B", path.join(harnessDirectory, "forkserver.py"), JSON.stringify(config)];
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

export async function planIsolation(options: IsolationOptions): Promise<IsolationPlan> {
  const runsAsRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const uidBase = options.uidBase ?? defaultUidBase();
  const prefer = options.prefer ?? "auto";
  const interpreter = options.interpreter;
  let fallbackReason: string | undefined;

  if (prefer !== "rlimits") {
    const bwrap = await findBwrap();
    if (bwrap === undefined) {
      fallbackReason = "bwrap is not installed";
    } else {
      const args = bwrapArguments(options, runsAsRoot);
      fallbackReason = await bwrapWorks(bwrap, args, interpreter);
      if (fallbackReason === undefined) {
        const features = [
          "bwrap",
          "own pid/net/ipc/uts namespaces",
          "read-only system directories",
          "private /tmp",
          runsAsRoot ? "per-worker uid" : "per-run user+pid namespace",
          "rlimits",
        ];
        return {
          kind: "bwrap",
          fallbackReason: undefined,
          runsAsRoot,
          features,
          launch(slot: number, launchOptions = {}): LaunchCommand {
            const config: ForkServerConfig = {
              work_base: "/tmp/work",
              scrub_paths: ["/tmp", "/dev/shm"],
              kill_mode: "all",
              run_uid: runsAsRoot ? uidBase + slot : null,
              nested_namespaces: !runsAsRoot,
              own_pid_namespace: true,
              once: launchOptions.once === true,
            };
            return {
              command: bwrap,
              args: [...args, interpreter.executable, ...forkServerArguments(SANDBOX_HARNESS, config)],
              env: { PATH: "/usr/bin:/bin" },
            };
          },
        };
      }
    }
    if (prefer === "bwrap") {
      throw new Error(`bubblewrap was required but does not work here: ${fallbackReason}`);
    }
  } else {
    fallbackReason = "disabled by configuration";
  }

  return {
    kind: "rlimits",
    fallbackReason,
    runsAsRoot,
    features: [runsAsRoot ? "per-worker uid" : "per-run user+pid namespace where the kernel allows", "rlimits"],
    launch(slot: number, launchOptions = {}): LaunchCommand {
      const config: ForkServerConfig = {
        work_base: path.join(tmpdir(), `tracefix-${process.pid}-${slot}`),
        scrub_paths: [],
        kill_mode: runsAsRoot ? "all" : "group",
        run_uid: runsAsRoot ? uidBase + slot : null,
        nested_namespaces: !runsAsRoot,
        own_pid_namespace: false,
        once: launchOptions.once === true,
      };
      return {
        command: interpreter.executable,
        args: forkServerArguments(options.harnessDirectory, config),
        env: { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" },
      };
    },
  };
}
