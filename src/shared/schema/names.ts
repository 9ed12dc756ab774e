/**
 * The names a request chooses among, without zod: the schemas build their
 * enums from these, and the playground's menus are filled from them
 * without bundling the schema library into the page.
 */

export const LANGUAGES = ["python", "javascript"] as const;

export const TRACE_FORMATS = ["concise", "codeexecutor", "next", "semcoder", "scratchpad", "none"] as const;

/** The strategies a request can name; each is one module in src/scaling/strategies/. */
export const STRATEGY_NAMES = ["sequential", "parallel", "hybrid", "agent"] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/**
 * What proposes the programs: `llm` samples the configured model; `repair`
 * is the built-in trace-guided edit search (no model; needs problem.code);
 * `mixed` is each round the edit search, then the model for the chains the
 * edits did not fix (needs both); `auto` is the model when one is
 * configured, else the edit search.
 */
export const POLICY_NAMES = ["auto", "llm", "repair", "mixed"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];
/** The policies a run is kept under: `auto` is resolved before a run starts. */
export const RUN_POLICY_NAMES = ["llm", "repair", "mixed"] as const satisfies readonly PolicyName[];
export type RunPolicyName = (typeof RUN_POLICY_NAMES)[number];

/** The tools of the agent strategy (architecture/agent.md, "The debugging agent"). */
export const AGENT_TOOLS = ["run_tests", "trace_test", "inspect", "submit"] as const;
export type AgentToolName = (typeof AGENT_TOOLS)[number];
