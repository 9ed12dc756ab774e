/** The scaling stage: strategies over policy, sandbox, trace and judge, and the runs that carry them. */
export { sequential, type RunInput, type ScalingDependencies } from "./sequential.ts";
export { RunManager, type ActiveRun } from "./runs.ts";
export { MemoryRunStore, type MemoryRunStoreOptions, type RunStore, type RunSummary } from "./store.ts";
export { loadPrompts, PROMPTS_DIRECTORY, PromptTemplate, type Prompts, type TemplateName } from "./prompts.ts";
export { testText, testsText, entryPointInstruction } from "./problem-text.ts";
