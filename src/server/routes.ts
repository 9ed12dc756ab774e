/**
 * What no route answers: 405 (with Allow) for a known path asked with
 * another method, else 404 — both in the one error body shape.
 */
import type { Hono } from "hono";

import { TracefixError } from "../shared/errors.ts";
import { errorBody } from "./errors.ts";

/** `/v1/runs/:id/events` → a regular expression matching its concrete paths. */
function pattern(path: string): RegExp {
  const escaped = path
    .split("/")
    .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${escaped}/?$`);
}

export function registerFallbacks(app: Hono): void {
  // Read once every route is registered.
  const routes = app.routes.filter((route) => route.method !== "ALL").map((route) => ({ method: route.method, path: pattern(route.path) }));
  app.notFound((context) => {
    const path = context.req.path;
    const allowed = [...new Set(routes.filter((route) => route.path.test(path)).map((route) => route.method))];
    if (allowed.length > 0) {
      if (allowed.includes("GET")) allowed.push("HEAD");
      context.header("Allow", allowed.join(", "));
      const error = new TracefixError("method_not_allowed", "server", `${context.req.method} is not allowed on ${path}; use ${allowed.join(" or ")}`);
      return context.json(errorBody(error), 405);
    }
    return context.json(errorBody(new TracefixError("not_found", "server", `no route for ${context.req.method} ${path}`)), 404);
  });
}
