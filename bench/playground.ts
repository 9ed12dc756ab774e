/**
 * npm run bench:playground [-- --loads N]
 *
 * The playground as a person meets it on localhost, in Debian's Chromium
 * against the server `npm start` runs (no language model):
 *  1. the page: its bytes, and first contentful paint over N fresh loads
 *     (median and worst; the target is under 1 s);
 *  2. the example (Load example, Solve): time to the first round drawn and
 *     to the solved answer, at the page.
 */
import { statSync } from "node:fs";
import path from "node:path";

import { PLAYGROUND_DIRECTORY } from "../src/server/playground.ts";
import { launchChromium, startServerWithoutModel } from "../test/support/browser.ts";

const loadsIndex = process.argv.indexOf("--loads");
const loads = loadsIndex >= 0 ? Number(process.argv[loadsIndex + 1]) : 20;

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const bytes = ["index.html", "app.js", "style.css"].map((file) => statSync(path.join(PLAYGROUND_DIRECTORY, file)).size);
const [server, browser] = await Promise.all([startServerWithoutModel(), launchChromium()]);
try {
  const paints: number[] = [];
  for (let load = 0; load < loads; load += 1) {
    const context = await browser.newContext(); // nothing cached: every load is a first visit
    const page = await context.newPage();
    await page.goto(server.url, { waitUntil: "load" });
    const paint = (await page.evaluate(
      `new Promise((resolve) => { const seen = () => performance.getEntriesByName("first-contentful-paint")[0]; const entry = seen(); if (entry) resolve(entry.startTime); else new PerformanceObserver(() => resolve(seen().startTime)).observe({ type: "paint", buffered: true }); })`,
    )) as number;
    paints.push(paint);
    await context.close();
  }
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.getByRole("button", { name: "Load example" }).click();
  const started = performance.now();
  await page.getByRole("button", { name: "Solve", exact: true }).click();
  await page.locator(".round").first().waitFor();
  const firstRound = performance.now() - started;
  await page.locator('#run[data-state="solved"]').waitFor({ timeout: 60_000 });
  const solved = performance.now() - started;
  const status = await page.locator("#run-status").textContent();

  process.stdout.write(`playground page: ${bytes.reduce((sum, size) => sum + size, 0)} bytes (html ${bytes[0]}, script ${bytes[1]}, styles ${bytes[2]})\n`);
  process.stdout.write(`first contentful paint over ${loads} fresh loads: median ${quantile(paints, 0.5).toFixed(0)} ms, worst ${Math.max(...paints).toFixed(0)} ms (target < 1000 ms)\n`);
  process.stdout.write(`example solved with no model: first round drawn after ${firstRound.toFixed(0)} ms, answer after ${solved.toFixed(0)} ms ("${status}")\n`);
} finally {
  await browser.close();
  await server.close();
}
