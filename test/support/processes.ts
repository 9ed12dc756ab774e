/** Process-table helpers: what a run left behind, seen from the host. */
import { readdirSync, readFileSync } from "node:fs";

interface ProcessEntry {
  readonly pid: number;
  readonly parent: number;
  readonly command: string;
}

function processTable(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // The command is in parentheses and may itself contain spaces or parentheses.
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      const command = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      entries.push({ pid: Number(name), parent: Number(fields[1]), command });
    } catch {
      // the process ended while we looked
    }
  }
  return entries;
}

/** Every process below the given ones (not themselves). */
export function descendantsOf(roots: readonly number[]): ProcessEntry[] {
  const table = processTable();
  const below = new Set<number>(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const entry of table) {
      if (!below.has(entry.pid) && below.has(entry.parent)) {
        below.add(entry.pid);
        grew = true;
      }
    }
  }
  return table.filter((entry) => below.has(entry.pid) && !roots.includes(entry.pid));
}

export function processesMatching(text: string): ProcessEntry[] {
  return processTable().filter((entry) => entry.command.includes(text) && !entry.command.includes("pgrep"));
}
