/**
 * The harness (forkserver.py, tracefix_harness/) is copied once at start-up
 * to a fresh world-readable temporary directory, and the sandbox binds that.
 * So the sandbox never learns where the checkout is (its path would show in
 * /proc/self/mountinfo and in tracebacks), and a server running from a
 * directory other users cannot read still hands its runs a readable harness.
 */
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface HarnessCopy {
  readonly directory: string;
  remove(): void;
}

function makeReadable(directory: string): void {
  chmodSync(directory, 0o755);
  for (const entry of readdirSync(directory)) {
    const target = path.join(directory, entry);
    if (statSync(target).isDirectory()) makeReadable(target);
    else chmodSync(target, 0o644);
  }
}

export function copyHarness(source: string): HarnessCopy {
  const directory = mkdtempSync(path.join(tmpdir(), "tracefix-harness-"));
  try {
    cpSync(source, directory, { recursive: true, filter: (file) => path.basename(file) !== "__pycache__" });
    makeReadable(directory);
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  return { directory, remove: () => rmSync(directory, { recursive: true, force: true }) };
}
