/** GET /v1/runs and GET /v1/runs/{id}/preferences: the kept runs and the preference pairs they yield. */
import { z } from "zod";

export const RunStatus = z.enum(["running", "solved", "unsolved", "failed"]);

export const RunListQuery = z.strictObject({
  status: RunStatus.optional().describe("only the runs in this state"),
  limit: z.coerce.number().int().min(1).max(10_000).default(100).describe("at most this many runs, newest first"),
});
export type RunListQuery = z.infer<typeof RunListQuery>;

export const RunListEntry = z.object({
  run_id: z.string(),
  status: RunStatus,
  strategy: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  last_event_id: z.int(),
});

export const RunList = z.object({ runs: z.array(RunListEntry) });
export type RunList = z.infer<typeof RunList>;

/** One line of the DPO export: TRL's `{prompt, chosen, rejected}` and where the pair came from. */
export const PreferenceRule = z.enum(["passing_beats_failing", "more_tests_passed", "more_steps_before_error", "milder_failure"]);
export type PreferenceRule = z.infer<typeof PreferenceRule>;

export const PreferencePair = z.object({
  prompt: z.string().describe("the task as the client sent it"),
  chosen: z.string().describe("the better program's code"),
  rejected: z.string().describe("the worse program's code"),
  rule: PreferenceRule.describe("the ETA rule that decided the pair"),
  run_id: z.string(),
  chosen_candidate: z.string(),
  rejected_candidate: z.string(),
});
export type PreferencePair = z.infer<typeof PreferencePair>;
