/**
 * Builds the playground (src/web) into dist/web: one minified ES module,
 * its page and its style sheet, served by the server at `/`. Runs at
 * install (npm's prepare), before `npm start` and before the tests.
 */
import { copyFileSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";

import { build } from "esbuild";

import { PLAYGROUND_DIRECTORY } from "../src/server/playground.ts";

const root = path.resolve(import.meta.dirname, "..");
const source = path.join(root, "src/web");

mkdirSync(PLAYGROUND_DIRECTORY, { recursive: true });
await build({
  entryPoints: [path.join(source, "main.ts")],
  outfile: path.join(PLAYGROUND_DIRECTORY, "app.js"),
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2022"],
  platform: "browser",
  legalComments: "none",
  logLevel: "warning",
});
for (const file of ["index.html", "style.css"]) copyFileSync(path.join(source, file), path.join(PLAYGROUND_DIRECTORY, file));
const sizes = ["app.js", "index.html", "style.css"].map((file) => `${file} ${(statSync(path.join(PLAYGROUND_DIRECTORY, file)).size / 1024).toFixed(1)} KiB`);
process.stdout.write(`playground built in dist/web: ${sizes.join(", ")}\n`);
