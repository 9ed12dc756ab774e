export * from "./execution.ts";
export * from "./requests.ts";
export * from "./solve.ts";
export * from "./events.ts";
export * from "./runs.ts";
export * from "./edits.ts";
