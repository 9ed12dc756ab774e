/**
 * Debian's Chromium driven by playwright-core, and the server `npm start`
 * runs, on a loopback port, for the playground's end-to-end tests.
 */
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { chromium, type Browser } from "playwright-core";

import { startLoopbackServer, type LoopbackServer } from "../../src/server/compose.ts";
import { loadConfig } from "../../src/shared/config.ts";
import { silentLogger } from "../../src/shared/logger.ts";

export const CHROMIUM = "/usr/bin/chromium";
/** Without Chromium the browser tests skip (with this reason), except in CI, where .ci/run installs it and they must run. */
export const SKIP_BROWSER = !existsSync(CHROMIUM) && process.env["CI"] !== "true";
export const SKIP_REASON = `no ${CHROMIUM} (apt-get install chromium): the playground's browser tests are skipped`;

/** Screenshots and other files a test leaves for a person to look at. */
export const OUTPUT_DIRECTORY = path.join(import.meta.dirname, "..", "output");

export function outputFile(name: string): string {
  mkdirSync(OUTPUT_DIRECTORY, { recursive: true });
  return path.join(OUTPUT_DIRECTORY, name);
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
}

/** The server as `npm start` composes it, with no language model (the repair search only). */
export async function startServerWithoutModel(): Promise<LoopbackServer> {
  // Runs kept as `npm start` keeps them (SQLite), in a state directory of the test's own.
  const environment: NodeJS.ProcessEnv = { ...process.env, TRACEFIX_SANDBOX_WORKERS: "2", TRACEFIX_STATE_DIR: mkdtempSync(path.join(tmpdir(), "tracefix-state-")) };
  for (const name of Object.keys(environment)) if (name.startsWith("TRACEFIX_LLM_") || name === "OPENAI_API_KEY") delete environment[name];
  return startLoopbackServer(loadConfig(environment), silentLogger);
}
