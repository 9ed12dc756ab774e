/** The sandbox stage: run programs against tests, with traces. */
export { forClient, worstCaseMs, type ExecuteOptions, type Executor, type ExecutorHealth, type SyntaxCheck, type WorkerCounts } from "./executor.ts";
export { DEFAULT_ADMISSION, INTERNAL_CLIENT, type AdmissionLimits } from "./worker-pool.ts";
export { PythonPool, HARNESS_DIRECTORY, type PythonPoolOptions } from "./python/pool.ts";
export { findInterpreter, listInterpreters, type PythonInterpreter } from "./python/interpreter.ts";
export { spawnLaunch } from "./python/isolation.ts";
export { JavaScriptPool, type JavaScriptPoolOptions } from "./javascript/pool.ts";
export { SandboxRouter } from "./router.ts";
