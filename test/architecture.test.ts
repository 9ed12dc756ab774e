/**
 * Imports flow one way: server → scaling → policy → (sandbox, trace) and
 * scaling → judge → (policy, trace) → shared; LangChain stays behind the
 * policy's own interface.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

import { describe, expect, it } from "vitest";

const SOURCE = path.join(import.meta.dirname, "..", "src");

function files(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const full = path.join(directory, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith(".ts") ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  return [...readFileSync(file, "utf8").matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gms)].map((match) => match[1] as string);
}

const ALLOWED: Record<string, readonly string[]> = {
  shared: ["shared"],
  datasets: ["datasets", "shared"],
  // A policy proposes programs: it may check, parse or try them in the sandbox and read their traces.
  policy: ["policy", "sandbox", "trace", "shared"],
  sandbox: ["sandbox", "shared"],
  trace: ["trace", "shared"],
  // The LLM judge asks a model (policy) and shows trace renderings (trace).
  judge: ["judge", "policy", "trace", "shared"],
  // The run store keeps events and summaries: it knows only their shapes.
  store: ["store", "shared"],
  scaling: ["scaling", "store", "policy", "sandbox", "trace", "judge", "shared"],
  server: ["server", "scaling", "store", "policy", "sandbox", "trace", "judge", "shared"],
  // Command-line tools sit at the top: `tracefix` starts an embedded server.
  // The playground runs in a browser: it speaks the public API and reads only the shared schemas' types and names.
  web: ["web", "shared"],
  cli: ["cli", "server", "store", "datasets", "scaling", "policy", "sandbox", "trace", "judge", "shared"],
};

describe("the dependency direction", () => {
  const sources = files(SOURCE);

  it.each(Object.keys(ALLOWED))("%s imports only what it may", (stage) => {
    const offending: string[] = [];
    for (const file of sources.filter((source) => path.relative(SOURCE, source).split(path.sep)[0] === stage)) {
      for (const specifier of importsOf(file)) {
        if (!specifier.startsWith(".")) continue;
        const target = path.relative(SOURCE, path.resolve(path.dirname(file), specifier)).split(path.sep)[0] as string;
        if (!(ALLOWED[stage] ?? []).includes(target)) offending.push(`${path.relative(SOURCE, file)} → ${specifier}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("bundles no schema library into the playground: it imports the schemas for their types only", () => {
    const valueImports = sources
      .filter((file) => path.relative(SOURCE, file).startsWith(`web${path.sep}`))
      .flatMap((file) => [...readFileSync(file, "utf8").matchAll(/^import\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gms)].map((match) => match[1] as string))
      .filter((specifier) => specifier.includes("/schema/") && !specifier.endsWith("/names.ts"));
    expect(valueImports).toEqual([]);
  });

  it("keeps LangChain inside the policy stage", () => {
    const users = sources.filter((file) => importsOf(file).some((specifier) => specifier.startsWith("@langchain/") || specifier === "langchain" || specifier.startsWith("langchain/")));
    expect(users.length).toBeGreaterThan(0);
    expect([...new Set(users.map((file) => path.relative(SOURCE, file).split(path.sep)[0]))]).toEqual(["policy"]);
  });
});
