/*
 * One JavaScript sandbox worker: a child process of the server (forked with
 * --no-node-snapshot, as isolated-vm requires on Node >= 20, and a bounded
 * heap of its own) that runs jobs from its parent, one at a time, each in
 * fresh isolates (run.mjs).
 *
 * Messages in (Node IPC):  {id, op: "run", job} | {id, op: "syntax", code}
 * Messages out (frames on fd 4, channel.mjs): {t: "ready", info} once;
 *   {id, t: "result", index, result} after each test of a run's untraced
 *   pass (so a crash is attributed to the test that was running);
 *   {id, t: "done", report} | {id, t: "syntax", syntax} | {id, t: "failed",
 *   error}; then {t: "idle"} once the next run's isolate is ready.
 *
 * Nothing from this process is handed to an isolate: arguments and results
 * cross as strings, functions as isolated-vm references that stay here. An
 * isolate that dies (memory limit) is replaced for the remaining tests; one
 * that takes this process down is the pool's to report (src/sandbox/javascript/pool.ts).
 * The verdict is decided here, on canonical values, never in the isolate.
 * A failure of this code is logged on stderr (the server's log) and answered
 * with a stable code and a plain message: no host path reaches a client.
 */
import { createRequire } from "node:module";

import ivm from "isolated-vm";

import { sendFrame } from "./channel.mjs";
import { ProgramSyntaxError, toScript } from "./instrument.mjs";
import { Run } from "./run.mjs";
import { prepareSpare, syntaxFromV8 } from "./session.mjs";

const isolatedVmVersion = (() => {
  try {
    return createRequire(import.meta.url)("isolated-vm/package.json").version;
  } catch {
    return "unknown";
  }
})();

/** Compiles only (nothing runs), in an isolate kept for that. */
let syntaxIsolate;
function checkSyntax(code) {
  let script = code;
  try {
    script = toScript(code);
  } catch (error) {
    if (error instanceof ProgramSyntaxError) return { ok: false, message: error.message, line: error.line ?? null };
    throw error;
  }
  if (syntaxIsolate === undefined || syntaxIsolate.isDisposed) syntaxIsolate = new ivm.Isolate({ memoryLimit: 64 });
  try {
    syntaxIsolate.compileScriptSync(script, { filename: "program.js" });
    return { ok: true };
  } catch (error) {
    const described = syntaxFromV8(error);
    return { ok: false, message: described.message, line: described.line };
  }
}

const defaultSessionOptions = { memoryMb: 512, reprLimit: 80, outputBytes: 65_536, tracerName: null, sites: null };

function runJob(id, job) {
  const run = new Run(job, (progress) => sendFrame({ id, ...progress }));
  try {
    sendFrame({ id, t: "done", report: run.execute() });
  } finally {
    // After the answer: clean up and make the next run's isolate (the pool
    // gives this worker its next job only once it says "idle").
    run.dispose();
  }
  prepareSpare(run.sessionOptions);
}

function handle(message) {
  if (message === null || typeof message !== "object") return;
  const id = message.id;
  try {
    if (message.op === "run") runJob(id, message.job);
    else if (message.op === "syntax") {
      sendFrame({ id, t: "syntax", syntax: checkSyntax(message.code) });
      prepareSpare(defaultSessionOptions);
    } else sendFrame({ id, t: "failed", error: { code: "protocol", message: "the worker does not know this request" } });
  } catch (error) {
    process.stderr.write(`a job failed in the JavaScript worker: ${error?.stack ?? error}\n`);
    sendFrame({ id, t: "failed", error: { code: "harness_error", message: "the JavaScript sandbox failed while running this job" } });
  }
  sendFrame({ t: "idle" });
}

process.on("message", (message) => {
  try {
    handle(message);
  } catch (error) {
    // The reply channel itself failed: nothing can be answered; the pool's limits will replace this worker.
    process.stderr.write(`the JavaScript worker could not answer: ${error?.stack ?? error}\n`);
    process.exit(70);
  }
});
process.on("disconnect", () => process.exit(0));

prepareSpare(defaultSessionOptions);
sendFrame({ t: "ready", info: { node: process.versions.node, v8: process.versions.v8, isolated_vm: isolatedVmVersion } });
