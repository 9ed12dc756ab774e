/**
 * The shared benchmark data (HumanEval, QuixBugs, MBPP; ../shared/data/README.md)
 * as tracefix problems. The files are read from a directory given by the
 * caller or TRACEFIX_DATA_DIR, never copied into this repository.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";

import { loadConfig } from "../shared/config.ts";
import type { TestSpec } from "../shared/schema/execution.ts";

export interface DatasetTest {
  readonly input: string;
  readonly expected: string;
  readonly kind: string;
  readonly slow?: boolean;
}

export interface DatasetRecord {
  readonly id: string;
  readonly source: string;
  readonly prompt: string;
  readonly entry_point: string;
  readonly buggy_code: string | null;
  readonly reference_code: string;
  readonly tests: readonly DatasetTest[];
  readonly test_code: string;
  readonly float_abs_tol_arg_index?: number | null;
  /** MBPP: the asserts, one per entry, and code they need first (imports, definitions), often empty. */
  readonly test_list?: readonly string[];
  readonly test_setup_code?: string;
}

export type DatasetName = "humaneval" | "quixbugs" | "mbpp";

let configured: string | undefined;

/** The configured data directory (TRACEFIX_DATA_DIR, else ../shared/data beside the repository). */
export function dataDirectory(): string {
  configured ??= loadConfig().dataDirectory;
  return configured;
}

export function datasetPath(name: DatasetName, directory = dataDirectory()): string {
  return path.join(directory, `${name}.jsonl`);
}

export function datasetAvailable(name: DatasetName, directory = dataDirectory()): boolean {
  return existsSync(datasetPath(name, directory));
}

export async function loadDataset(file: string): Promise<DatasetRecord[]> {
  const text = await readFile(file, "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as DatasetRecord);
}

/**
 * The record's tests as tracefix tests: its I/O cases as `call` tests (the
 * slow ones left out, as upstream does), else its check(candidate) code as
 * one `assert` test.
 */
export function testsOf(record: DatasetRecord): TestSpec[] {
  const cases = record.tests.filter((test) => !test.slow);
  if (cases.length === 0) return [{ kind: "assert", code: record.test_code }];
  return cases.map((test): TestSpec => {
    const spec: TestSpec = { kind: "call", input: test.input, output: test.expected };
    const toleranceIndex = record.float_abs_tol_arg_index;
    if (toleranceIndex !== undefined && toleranceIndex !== null) {
      // sqrt: pass when |result - expected| <= the epsilon argument, as upstream.
      const args = JSON.parse(test.input) as number[];
      const tolerance = args.at(toleranceIndex);
      if (typeof tolerance === "number") return { ...spec, abs_tol: tolerance, rel_tol: 0 };
    }
    return spec;
  });
}

/**
 * An MBPP record's tests: each assert of its `test_list` as one `assert`
 * test (so a program can pass some and fail others), its `test_setup_code`
 * first where it has one.
 */
export function mbppTests(record: DatasetRecord): TestSpec[] {
  const setup = (record.test_setup_code ?? "").trim();
  return (record.test_list ?? []).map((code): TestSpec => ({ kind: "assert", code: setup === "" ? code : `${setup}\n${code}` }));
}
