/** The sandbox stage: run programs against tests, with traces. */
export type { ExecuteOptions, Executor, ExecutorHealth, SyntaxCheck, WorkerCounts } from "./executor.ts";
export { PythonPool, HARNESS_DIRECTORY, type PythonPoolOptions } from "./python/pool.ts";
export { findInterpreter, listInterpreters, type PythonInterpreter } from "./python/interpreter.ts";
export { spawnLaunch } from "./python/isolation.ts";
export { JavaScriptPool, type JavaScriptPoolOptions } from "./javascript/pool.ts";
export { SandboxRouter } from "./router.ts";
