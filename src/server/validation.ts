import type { z } from "zod";

import { InvalidRequestError } from "../shared/errors.ts";

/** Parses `body` with `schema`; a mismatch becomes a 400 naming the first offending field. */
export function parseRequest<Schema extends z.ZodType>(schema: Schema, body: unknown): z.infer<Schema> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // An unknown key is named itself, not its parent object.
  const path = issue?.code === "unrecognized_keys" ? [...issue.path, ...issue.keys.slice(0, 1)] : (issue?.path ?? []);
  const field = path.length === 0 ? "body" : path.map(String).join(".");
  const message = `${field}: ${issue?.message ?? "invalid request"}`;
  throw new InvalidRequestError(field, message, {
    issues: result.error.issues.slice(0, 10).map((problem) => ({ field: problem.path.map(String).join("."), message: problem.message })),
  });
}
