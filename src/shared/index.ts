/** Types and helpers every stage may import; it imports no stage. */
export * from "./errors.ts";
export * from "./logger.ts";
export * from "./schema/index.ts";
