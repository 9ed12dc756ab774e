/**
 * The playground at `/`: the page, script and style sheet built from
 * src/web into dist/web (scripts/build-web.ts), read once when the app is
 * made and served as they are. The page only calls the public API.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { Hono } from "hono";

import { TracefixError } from "../shared/errors.ts";

export const PLAYGROUND_DIRECTORY = fileURLToPath(new URL("../../dist/web/", import.meta.url));

const ASSETS = [
  { route: "/", file: "index.html", type: "text/html; charset=utf-8" },
  { route: "/playground/app.js", file: "app.js", type: "text/javascript; charset=utf-8" },
  { route: "/playground/style.css", file: "style.css", type: "text/css; charset=utf-8" },
] as const;

// The page shows programs and traces nobody has read: nothing but our own script and styles may run or load.
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache",
};

function readAsset(directory: string, file: string): Buffer | undefined {
  try {
    return readFileSync(path.join(directory, file));
  } catch {
    return undefined;
  }
}

export function registerPlayground(app: Hono, directory = PLAYGROUND_DIRECTORY): void {
  for (const asset of ASSETS) {
    const body = readAsset(directory, asset.file);
    app.get(asset.route, (context) => {
      if (body === undefined) throw new TracefixError("playground_not_built", "server", `the playground is not built (no ${asset.file} in ${path.basename(directory)}): run npm run build:web`);
      return context.body(new Uint8Array(body), 200, { "content-type": asset.type, ...SECURITY_HEADERS });
    });
  }
}
