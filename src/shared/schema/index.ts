export * from "./execution.ts";
export * from "./requests.ts";
