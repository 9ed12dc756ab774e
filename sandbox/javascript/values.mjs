/*
 * Values in the worker: comparing canonical values (runtime.js writes them;
 * tags as in the Python harness), encoding a test's JSON expected value the
 * way runtime.js would encode it, and printing it the way runtime.js prints
 * a program's values. The expected value of a call test never enters the
 * candidate's isolate: the worker holds it, compares it, and shows it.
 */
export const DEFAULT_RELATIVE_TOLERANCE = 1e-6;
export const DEFAULT_ABSOLUTE_TOLERANCE = 1e-9;

function asNumber(value) {
  if (typeof value === "number") return value;
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    if ("$f" in value) return { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, "-inf": Number.NEGATIVE_INFINITY }[value.$f];
    if ("$big" in value) return Number(value.$big);
  }
  return undefined;
}

function isNothing(value) {
  return value === null || (value !== null && typeof value === "object" && value.$undefined === true);
}

function numbersEqual(expected, actual, expectedNumber, actualNumber, relative, absolute) {
  if (typeof expected === "object" && typeof actual === "object" && "$big" in expected && "$big" in actual) return expected.$big === actual.$big;
  if (Number.isNaN(expectedNumber) || Number.isNaN(actualNumber)) return Number.isNaN(expectedNumber) && Number.isNaN(actualNumber);
  if (!Number.isFinite(expectedNumber) || !Number.isFinite(actualNumber)) return expectedNumber === actualNumber;
  if (expectedNumber === actualNumber) return true;
  return Math.abs(expectedNumber - actualNumber) <= Math.max(relative * Math.max(Math.abs(expectedNumber), Math.abs(actualNumber)), absolute);
}

function taggedEqual(expected, actual, relative, absolute) {
  if ("$dict" in expected && "$dict" in actual) {
    const key = (item) => JSON.stringify(item);
    const actualPairs = new Map(actual.$dict.map(([name, value]) => [key(name), value]));
    if (actualPairs.size !== new Set(expected.$dict.map(([name]) => key(name))).size) return false;
    return expected.$dict.every(([name, value]) => actualPairs.has(key(name)) && canonicalEqual(value, actualPairs.get(key(name)), relative, absolute));
  }
  if ("$set" in expected && "$set" in actual) {
    const sorted = (items) => items.map((item) => JSON.stringify(item)).sort();
    const left = sorted(expected.$set);
    const right = sorted(actual.$set);
    return left.length === right.length && left.every((item, index) => item === right[index]);
  }
  if ("$obj" in expected && "$obj" in actual) return expected.$obj === actual.$obj && canonicalEqual(expected.attrs, actual.attrs, relative, absolute);
  if ("$date" in expected && "$date" in actual) return expected.$date === actual.$date;
  // $opaque, $deep, $circular: what could not be read in full equals nothing.
  return false;
}

export function canonicalEqual(expected, actual, relative = DEFAULT_RELATIVE_TOLERANCE, absolute = DEFAULT_ABSOLUTE_TOLERANCE) {
  // JSON has no undefined: a test expecting null accepts undefined (and the reverse).
  if (isNothing(expected) || isNothing(actual)) return isNothing(expected) && isNothing(actual);
  const expectedNumber = asNumber(expected);
  const actualNumber = asNumber(actual);
  if (expectedNumber !== undefined || actualNumber !== undefined) {
    if (expectedNumber === undefined || actualNumber === undefined) return false;
    return numbersEqual(expected, actual, expectedNumber, actualNumber, relative, absolute);
  }
  if (typeof expected !== typeof actual) return false;
  if (typeof expected === "string" || typeof expected === "boolean") return expected === actual;
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual) || expected.length !== actual.length) return false;
    return expected.every((item, index) => canonicalEqual(item, actual[index], relative, absolute));
  }
  if (expected === null || actual === null || typeof expected !== "object") return false;
  return taggedEqual(expected, actual, relative, absolute);
}

/** A JSON value from a test, as runtime.js would encode it. */
export function canonicalFromJson(value) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(canonicalFromJson);
  return { $dict: Object.entries(value).map(([key, item]) => [key, canonicalFromJson(item)]) };
}

export function normalizeOutput(text) {
  const lines = text.replaceAll("\r\n", "\n").split("\n").map((line) => line.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// A JSON value printed as runtime.js's repr() prints the same value parsed in
// an isolate (a test keeps the two in step): a JavaScript literal within
// `limit` characters, containers cut with "…".
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function reprJson(value, limit) {
  const state = { room: limit };
  const text = reprValue(value, state, 0);
  if (text.length <= limit) return text;
  return `${text.slice(0, Math.max(1, limit - 1))}…`;
}

function reprValue(value, state, depth) {
  if (state.room <= 0) return "…";
  let text;
  if (value === null) text = "null";
  else if (typeof value === "boolean") text = value ? "true" : "false";
  else if (typeof value === "number") text = Object.is(value, -0) ? "-0" : String(value);
  else if (typeof value === "string") text = value.length > state.room + 2 ? `${JSON.stringify(value.slice(0, state.room))}…` : JSON.stringify(value);
  else if (typeof value === "object") text = depth >= 6 ? (Array.isArray(value) ? "[…]" : "{…}") : reprContainer(value, state, depth);
  else text = "undefined";
  state.room -= text.length;
  return text;
}

function reprItems(items, state, depth, open, close) {
  const parts = [];
  const room = state.room;
  let used = open.length + close.length;
  for (const entry of items) {
    if (used >= room) {
      parts.push("…");
      break;
    }
    const saved = state.room;
    state.room = room - used;
    const text = entry.key === undefined ? reprValue(entry.value, state, depth + 1) : `${entry.key}${reprValue(entry.value, state, depth + 1)}`;
    state.room = saved;
    parts.push(text);
    used += text.length + 2;
  }
  return `${open}${parts.join(", ")}${close}`;
}

function reprContainer(value, state, depth) {
  if (Array.isArray(value)) {
    const items = [];
    for (let index = 0; index < value.length && index < 10_000; index++) {
      items.push({ key: undefined, value: value[index] });
      if (items.length * 2 > state.room) break;
    }
    const text = reprItems(items, state, depth, "[", "]");
    return items.length < value.length && !text.endsWith("…]") ? `${text.slice(0, -1)}, …]` : text;
  }
  const items = [];
  const keys = Object.keys(value);
  for (let index = 0; index < keys.length && items.length * 3 <= state.room; index++) {
    const key = keys[index];
    items.push({ key: `${IDENTIFIER.test(key) ? key : JSON.stringify(key)}: `, value: value[key] });
  }
  return reprItems(items, state, depth, "{", "}");
}
