/** GET /v1/runs and GET /v1/runs/{id}/preferences: the kept runs and the preference pairs they yield. */
import { z } from "zod";

import { LANGUAGES, RUN_POLICY_NAMES, STRATEGY_NAMES } from "./names.ts";

export const RunStatus = z.enum(["running", "solved", "unsolved", "failed"]);

const isoTime = z.iso.datetime({ offset: true }).describe("ISO 8601, e.g. 2026-12-03T10:00:00Z");

/** The filters GET /v1/runs and GET /v1/preferences share. */
const RunFilterFields = {
  status: RunStatus.optional().describe("only the runs in this state"),
  strategy: z.enum(STRATEGY_NAMES).optional(),
  policy: z.enum(RUN_POLICY_NAMES).optional().describe("what proposed the programs (auto resolved)"),
  language: z.enum(LANGUAGES).optional(),
  since: isoTime.optional().describe("runs created at or after this time"),
  until: isoTime.optional().describe("runs created before this time"),
};

export const RunListQuery = z.strictObject({
  ...RunFilterFields,
  cursor: z.string().max(500).optional().describe("next_cursor of the previous page"),
  limit: z.coerce.number().int().min(1).max(10_000).default(100).describe("at most this many runs, newest first"),
});
export type RunListQuery = z.infer<typeof RunListQuery>;

export const PreferencesQuery = z.strictObject({
  ...RunFilterFields,
  status: z.enum(["solved", "unsolved", "failed"]).optional().describe("only finished runs in this state (running ones are never exported)"),
});
export type PreferencesQuery = z.infer<typeof PreferencesQuery>;

export const RunListEntry = z.object({
  run_id: z.string(),
  status: RunStatus,
  strategy: z.string(),
  policy: z.string(),
  language: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  last_event_id: z.int(),
});

export const RunList = z.object({ runs: z.array(RunListEntry), next_cursor: z.string().nullable().describe("pass as cursor for the next page; null: no more") });
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
