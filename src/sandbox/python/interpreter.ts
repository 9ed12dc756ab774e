/**
 * Which Python runs candidate programs: `PYTHON` when set, else the newest
 * working python3.x (x ≥ 10) on PATH, in pyenv's versions or the usual
 * prefixes. Every candidate is actually run once: a pyenv shim for a version
 * that is not active exists on PATH but fails.
 */
import { execFile } from "node:child_process";
import { readdir, realpath } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { SandboxError } from "../../shared/errors.ts";

const run = promisify(execFile);
const MINIMUM_MINOR = 10;

export interface PythonInterpreter {
  /** The real executable (symlinks and shims resolved). */
  readonly executable: string;
  readonly version: readonly [number, number, number];
  /** Directories the interpreter needs to read (prefixes), for the sandbox's mounts. */
  readonly prefixes: readonly string[];
}

const PROBE =
  "import json, sys; print(json.dumps({'version': list(sys.version_info[:3]), 'executable': sys.executable, " +
  "'prefixes': sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})}))";

export async function probeInterpreter(command: string): Promise<PythonInterpreter> {
  const { stdout } = await run(command, ["-I", "-c", PROBE], { timeout: 10_000, env: { PATH: process.env["PATH"] ?? "" } });
  const parsed = JSON.parse(stdout) as { version: [number, number, number]; executable: string; prefixes: string[] };
  const executable = await realpath(parsed.executable);
  const prefixes = await Promise.all(parsed.prefixes.map((prefix) => realpath(prefix).catch(() => prefix)));
  return { executable, version: parsed.version, prefixes: [...new Set([...prefixes, path.dirname(path.dirname(executable))])] };
}

function minorOf(file: string): number | undefined {
  const match = /^python3\.(\d+)$/.exec(path.basename(file));
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function candidatePaths(): Promise<string[]> {
  const directories = (process.env["PATH"] ?? "").split(path.delimiter).filter(Boolean);
  const pyenvRoot = process.env["PYENV_ROOT"] ?? path.join(homedir(), ".pyenv");
  const versions = await readdir(path.join(pyenvRoot, "versions")).catch(() => [] as string[]);
  directories.push(...versions.map((version) => path.join(pyenvRoot, "versions", version, "bin")));
  directories.push("/usr/local/bin", "/usr/bin");
  const found: string[] = [];
  for (const directory of new Set(directories)) {
    const entries = await readdir(directory).catch(() => [] as string[]);
    for (const entry of entries) {
      const minor = minorOf(entry);
      if (minor !== undefined && minor >= MINIMUM_MINOR) found.push(path.join(directory, entry));
    }
  }
  return found.sort((left, right) => (minorOf(right) ?? 0) - (minorOf(left) ?? 0));
}

/** `requested` (the PYTHON setting) when given, else the newest python3.x found. */
export async function findInterpreter(requested?: string): Promise<PythonInterpreter> {
  if (requested) {
    const interpreter = await probeInterpreter(requested).catch((error: unknown) => {
      throw new SandboxError("python_unavailable", `PYTHON=${requested} does not run: ${String(error)}`, { cause: error });
    });
    if (interpreter.version[0] !== 3 || interpreter.version[1] < MINIMUM_MINOR) {
      throw new SandboxError("python_too_old", `PYTHON=${requested} is ${interpreter.version.join(".")}; 3.${MINIMUM_MINOR}+ is needed`);
    }
    return interpreter;
  }
  for (const candidate of [...(await candidatePaths()), "python3"]) {
    try {
      const interpreter = await probeInterpreter(candidate);
      if (interpreter.version[0] === 3 && interpreter.version[1] >= MINIMUM_MINOR) return interpreter;
    } catch {
      // a shim of an inactive version, a broken link: try the next one
    }
  }
  throw new SandboxError("python_unavailable", `no python3.${MINIMUM_MINOR}+ found; set PYTHON`);
}

/** Every working python3.x (x ≥ 10) found, one per version, newest first. */
export async function listInterpreters(): Promise<PythonInterpreter[]> {
  const byVersion = new Map<string, PythonInterpreter>();
  for (const candidate of await candidatePaths()) {
    try {
      const interpreter = await probeInterpreter(candidate);
      const key = interpreter.version.slice(0, 2).join(".");
      if (interpreter.version[0] === 3 && !byVersion.has(key)) byVersion.set(key, interpreter);
    } catch {
      // not runnable: skip
    }
  }
  return [...byVersion.values()];
}

