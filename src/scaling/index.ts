/** The scaling stage: strategies over policy, sandbox, trace and judge, and the runs that carry them. */
export { runStrategy } from "./run.ts";
export type { RunInput, ScalingDependencies } from "./run-context.ts";
export { resolveRun, runRequestOf, type Policies, type RunRequest } from "./resolve.ts";
export { STRATEGIES } from "./strategies/index.ts";
export type { Strategy, StrategyOutcome } from "./strategy.ts";
export { Selection, selectPrograms, type SelectionCandidate, type SelectionDependencies, type SelectionOutcome } from "./selection.ts";
export { publicTests } from "./public-tests.ts";
export { RunManager, type ActiveRun } from "./runs.ts";
export { loadPrompts, PROMPTS_DIRECTORY, PromptTemplate, type Prompts, type TemplateName } from "../shared/prompts.ts";
