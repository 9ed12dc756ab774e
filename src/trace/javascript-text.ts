/** JSON values written the way JavaScript source (and runtime.js's reports) writes them. */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A JSON value as a JavaScript literal: `[1, "a", {key: null}]`. */
export function javascriptLiteral(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(javascriptLiteral).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => `${IDENTIFIER.test(key) ? key : JSON.stringify(key)}: ${javascriptLiteral(item)}`)
      .join(", ")}}`;
  }
  return String(value);
}
