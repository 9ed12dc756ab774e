/**
 * Preference data from retained runs, in TRL's DPO format: one JSON object
 * per pair, `{prompt, chosen, rejected}`, plus the ETA rule that decided the
 * pair and where it came from.
 *
 * What the fields hold (our choice, written down in architecture/reward.md):
 * - `prompt` is the task as the client sent it (run.started's
 *   `problem.prompt`), not tracefix's generation prompt around it: the data
 *   is for training a code model to answer that task, whatever wraps it.
 * - `chosen` / `rejected` are the programs' code, as executed.
 * - Every two distinct programs of a run that the ETA rules tell apart make
 *   a pair, whatever round or chain they came from; a reply with no code and
 *   the same program written twice make none. The standing of a program is
 *   its public-test result (hidden tests never reach the events).
 */
import type { RunEvent } from "../shared/schema/events.ts";
import type { PreferencePair } from "../shared/schema/runs.ts";
import { standingOf, type EtaStanding } from "./eta.ts";
import { preferenceBetween } from "./preferences.ts";


interface ExecutedProgram {
  readonly candidate: string;
  readonly code: string;
  readonly standing: EtaStanding;
}

/** The preference pairs of one run, from its events (in any order of rounds). */
export function dpoPairs(events: readonly RunEvent[]): PreferencePair[] {
  let prompt: string | undefined;
  let runId = "";
  const code = new Map<string, string>();
  const standings = new Map<string, EtaStanding>();
  for (const event of events) {
    runId = event.run_id;
    if (event.type === "run.started") prompt = event.problem.prompt;
    else if (event.type === "candidate.generated" && event.code !== null) code.set(event.candidate, event.code);
    else if (event.type === "candidate.executed") {
      if (event.status === "no_code") continue;
      // A program the sandbox could not run at all ranks below every program that ran.
      const standing =
        event.status === "error"
          ? { passed: 0, total: event.total, failure: "error" as const, steps: 0 }
          : standingOf(
              event.passed,
              event.total,
              event.tests.map((test) => test.status),
              event.steps,
            );
      standings.set(event.candidate, standing);
    }
  }
  if (prompt === undefined) return [];
  const programs: ExecutedProgram[] = [];
  const seen = new Set<string>();
  for (const [candidate, standing] of standings) {
    const text = code.get(candidate);
    if (text === undefined || seen.has(text)) continue;
    seen.add(text);
    programs.push({ candidate, code: text, standing });
  }
  const pairs: PreferencePair[] = [];
  for (let first = 0; first < programs.length; first++) {
    for (let second = first + 1; second < programs.length; second++) {
      const left = programs[first] as ExecutedProgram;
      const right = programs[second] as ExecutedProgram;
      const preference = preferenceBetween(left.standing, right.standing);
      if (preference === undefined) continue;
      const [chosen, rejected] = preference.better === 0 ? [left, right] : [right, left];
      pairs.push({
        prompt,
        chosen: chosen.code,
        rejected: rejected.code,
        rule: preference.rule,
        run_id: runId,
        chosen_candidate: chosen.candidate,
        rejected_candidate: rejected.candidate,
      });
    }
  }
  return pairs;
}
