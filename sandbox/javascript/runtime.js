/*
 * The runtime of one JavaScript run, evaluated first in every fresh
 * isolate-vm context (sandbox/javascript/worker.mjs). It is the only code the
 * program shares a heap with, so it is written for a hostile neighbour that
 * may rewrite any built-in after this script ran:
 *
 * - every built-in it uses is captured here, before the program runs, and
 *   called through the captured Reflect.apply;
 * - no operation it performs on a value consults anything the program can
 *   change afterwards: no `instanceof` (Symbol.hasInstance), no property read
 *   that could reach a getter on a shared prototype (values are read through
 *   their own property descriptors; its own records define every field they
 *   are ever read for), no assignment that could reach a setter (the lists
 *   that hold values have no prototype, so an index setter on
 *   Array.prototype never sees what is pushed), no
 *   `String.prototype.split`/`replace` or `RegExp.prototype.test` (they look
 *   up Symbol.split, Symbol.replace and `exec` at call time), no property
 *   descriptor that inherits `get`/`set` (descriptors have no prototype). Types are told
 *   by captured brand checks (Array.isArray, the Map/Set size getters,
 *   Date.prototype.getTime, a walk of the prototype chain with
 *   Object.getPrototypeOf), each in try/catch;
 * - everything it reports to the worker is a primitive string built by hand;
 * - call tests' verdicts are not decided here: return values leave as
 *   canonical JSON text and the worker compares them with the expected
 *   value, which never enters this isolate. `assert` tests compare inside
 *   (the test code is here), on canonical text computed the same hook-free
 *   way; values that cannot be read in full never compare equal.
 *
 * The program sees Node-like globals: console, process (argv, env, exit,
 * stdout/stderr.write, stdin events, nextTick), require('assert' | 'fs' |
 * 'readline' | 'util'), module/exports, timers on a virtual clock, a seeded
 * Math.random, and the trace recorder under an unguessable global name when
 * the run is traced.
 *
 * The script's completion value is the driver object the worker calls.
 */
(function createRuntime() {
  "use strict";
  const globalObject = globalThis;
  const ObjectRef = Object;
  const ObjectPrototype = Object.prototype;
  const apply = Reflect.apply;
  const defineProperty = Object.defineProperty;
  const freeze = Object.freeze;
  const getPrototypeOf = Object.getPrototypeOf;
  const setPrototypeOf = Object.setPrototypeOf;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const objectKeys = Object.keys;
  const hasOwnProperty = Object.prototype.hasOwnProperty;
  const isArray = Array.isArray;
  const arraySort = Array.prototype.sort;
  const objectIs = Object.is;
  const create = Object.create;
  const stringifyPrimitive = JSON.stringify;
  const parseJson = JSON.parse;
  const StringRef = String;
  const NumberRef = Number;
  const BigIntRef = BigInt;
  const isFinite = Number.isFinite;
  const isNaN = Number.isNaN;
  const mathFloor = Math.floor;
  const mathImul = Math.imul;
  const mathMax = Math.max;
  const mathMin = Math.min;
  const ErrorRef = Error;
  const ErrorPrototype = Error.prototype;
  const TypeErrorRef = TypeError;
  const PromiseRef = Promise;
  const PromisePrototype = Promise.prototype;
  const promiseThen = Promise.prototype.then;
  const promiseResolve = Promise.resolve;
  const symbolSpecies = Symbol.species;
  const symbolAsyncIterator = Symbol.asyncIterator;
  const promiseSpeciesGetter = getOwnPropertyDescriptor(Promise, Symbol.species).get;
  const stringSlice = String.prototype.slice;
  const stringIndexOf = String.prototype.indexOf;
  const stringCharCodeAt = String.prototype.charCodeAt;
  const regexpExec = RegExp.prototype.exec;
  const regexpSourceGetter = getOwnPropertyDescriptor(RegExp.prototype, "source").get;
  const RegExpPrototype = RegExp.prototype;
  const functionToString = Function.prototype.toString;
  const MapRef = Map;
  const WeakMapRef = WeakMap;
  const mapForEach = Map.prototype.forEach;
  const setForEach = Set.prototype.forEach;
  const mapSet = Map.prototype.set;
  const mapGet = Map.prototype.get;
  const mapDelete = Map.prototype.delete;
  const mapClear = Map.prototype.clear;
  const weakMapGet = WeakMap.prototype.get;
  const weakMapSet = WeakMap.prototype.set;
  const weakSetAdd = WeakSet.prototype.add;
  const weakSetHas = WeakSet.prototype.has;
  const WeakSetRef = WeakSet;
  const mapSizeGetter = getOwnPropertyDescriptor(Map.prototype, "size").get;
  const setSizeGetter = getOwnPropertyDescriptor(Set.prototype, "size").get;
  const dateGetTime = Date.prototype.getTime;
  const dateToISOString = Date.prototype.toISOString;
  const errorStackLimit = 20;
  const typedArrayPrototype = getPrototypeOf(Uint8Array.prototype);
  const typedArrayLengthGetter = getOwnPropertyDescriptor(typedArrayPrototype, "length").get;
  const typedArrayTag = getOwnPropertyDescriptor(typedArrayPrototype, Symbol.toStringTag).get;
  const isView = ArrayBuffer.isView;
  const symbolToString = Symbol.prototype.toString;
  const bigintToString = BigInt.prototype.toString;
  const globalEval = eval;

  // Only the worker holds the driver; these reach nothing outside the isolate,
  // but they let a program allocate memory the heap limit does not see.
  const removed = ["WebAssembly", "SharedArrayBuffer", "Atomics"];
  for (let index = 0; index < removed.length; index++) {
    try {
      delete globalObject[removed[index]];
    } catch {
      /* not configurable in this V8: left as is */
    }
  }
  Error.stackTraceLimit = errorStackLimit;

  // ---------------------------------------------------------------------------
  // Hook-free primitives. Lists made by list() have no prototype, so writing
  // to them never reaches a setter the program put on Array.prototype or
  // Object.prototype; records are literals with every field they are read for.
  function list() {
    const items = [];
    setPrototypeOf(items, null);
    return items;
  }
  function push(items, item) {
    items[items.length] = item;
  }
  function join(items, separator) {
    let text = "";
    for (let index = 0; index < items.length; index++) text += (index === 0 ? "" : separator) + items[index];
    return text;
  }
  function own(object, key) {
    return apply(hasOwnProperty, object, [key]);
  }
  function slice(text, start, end) {
    return apply(stringSlice, text, end === undefined ? [start] : [start, end]);
  }
  function indexOf(text, search, from) {
    return apply(stringIndexOf, text, [search, from ?? 0]);
  }
  function charCode(text, index) {
    return apply(stringCharCodeAt, text, [index]);
  }
  /** `text` split at every `separator` (a string), without String.prototype.split. */
  function splitText(text, separator) {
    const parts = list();
    let start = 0;
    for (;;) {
      const found = indexOf(text, separator, start);
      if (found < 0) break;
      push(parts, slice(text, start, found));
      start = found + separator.length;
    }
    push(parts, slice(text, start));
    return parts;
  }
  function replaceText(text, search, replacement) {
    return join(splitText(text, search), replacement);
  }
  function isSpace(code) {
    return code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0xfeff || code === 0x2028 || code === 0x2029;
  }
  function trimText(text) {
    let start = 0;
    let end = text.length;
    while (start < end && isSpace(charCode(text, start))) start++;
    while (end > start && isSpace(charCode(text, end - 1))) end--;
    return slice(text, start, end);
  }
  function quote(text) {
    return stringifyPrimitive(text);
  }
  function utf8Length(text) {
    let bytes = text.length;
    for (let index = 0; index < text.length; index++) {
      const code = charCode(text, index);
      if (code >= 0x80) bytes += code >= 0x800 && (code < 0xd800 || code > 0xdfff) ? 2 : 1;
    }
    return bytes;
  }
  function isIdentifier(text) {
    if (typeof text !== "string" || text.length === 0) return false;
    for (let index = 0; index < text.length; index++) {
      const code = charCode(text, index);
      const letter = (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 36;
      if (!letter && !(index > 0 && code >= 48 && code <= 57)) return false;
    }
    return true;
  }
  /** Sorts a list of strings in place: the captured sort, no comparator (strings compare as themselves), on a list without prototype. */
  function sortTexts(items) {
    if (items.length < 2) return items;
    apply(arraySort, items, []);
    return items;
  }
  function safeString(value) {
    try {
      return StringRef(value);
    } catch {
      return "<unprintable>";
    }
  }
  /** A bounded, printable form of an exit code or label a program passed (read once, when it is passed). */
  function shortText(value, limit) {
    const text = typeof value === "string" ? value : typeof value === "number" ? StringRef(value) : safeString(value);
    return text.length > limit ? `${slice(text, 0, limit)}…` : text;
  }
  /** An own data property's value (`ok`), or whether it is a getter; inherited `value`/`get` fields of descriptors are never read. */
  function readProperty(value, key) {
    const descriptor = getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined) return { ok: false, getter: false, value: undefined };
    if (own(descriptor, "value")) return { ok: true, getter: false, value: descriptor.value };
    return { ok: false, getter: true, value: undefined };
  }
  /** The data property `key` as a [[Get]] would find it along the prototype chain, without running a getter. */
  function lookupData(value, key) {
    for (let object = value; object !== null; object = getPrototypeOf(object)) {
      const property = readProperty(object, key);
      if (property.ok || property.getter) return property;
    }
    return { ok: false, getter: false, value: undefined };
  }
  function inheritsFrom(value, prototype) {
    try {
      for (let object = getPrototypeOf(value); object !== null; object = getPrototypeOf(object)) if (object === prototype) return true;
    } catch {
      return false;
    }
    return false;
  }
  function isPlainObject(value) {
    let prototype;
    try {
      prototype = getPrototypeOf(value);
    } catch {
      return false;
    }
    return prototype === null || prototype === ObjectPrototype;
  }
  function constructorName(value) {
    try {
      let prototype = getPrototypeOf(value);
      while (prototype !== null) {
        const constructor = readProperty(prototype, "constructor");
        if (constructor.ok && typeof constructor.value === "function") {
          const name = readProperty(constructor.value, "name");
          if (name.ok && typeof name.value === "string" && name.value !== "") return shortText(name.value, 200);
        }
        prototype = getPrototypeOf(prototype);
      }
    } catch {
      /* a proxy that throws: anonymous */
    }
    return "Object";
  }
  function ownData(value) {
    // Own enumerable string keys, read as data (a getter is shown, not run).
    const names = list();
    let keys;
    try {
      keys = objectKeys(value);
    } catch {
      return names;
    }
    for (let index = 0; index < keys.length; index++) push(names, keys[index]);
    return names;
  }
  function isError(value) {
    return typeof value === "object" && value !== null && inheritsFrom(value, ErrorPrototype);
  }
  function tryMapSize(value) {
    try {
      return apply(mapSizeGetter, value, []);
    } catch {
      return -1;
    }
  }
  function trySetSize(value) {
    try {
      return apply(setSizeGetter, value, []);
    } catch {
      return -1;
    }
  }
  function tryDateTime(value) {
    try {
      return apply(dateGetTime, value, []);
    } catch {
      return undefined;
    }
  }
  function typedArrayName(value) {
    try {
      return isView(value) ? apply(typedArrayTag, value, []) : undefined;
    } catch {
      return undefined;
    }
  }
  function isRegExp(value) {
    if (value === RegExpPrototype) return false;
    try {
      apply(regexpSourceGetter, value, []);
      return true;
    } catch {
      return false;
    }
  }
  /** RegExp matching by the captured exec itself (RegExp.prototype.test would call whatever `exec` is now). */
  function regexMatches(pattern, text) {
    return apply(regexpExec, pattern, [text]) !== null;
  }
  function entries(value) {
    // Map entries in insertion order, by the captured forEach (internal slots, no iterator).
    const pairs = list();
    apply(mapForEach, value, [(item, key) => push(pairs, { key, item })]);
    return pairs;
  }
  function setItems(value) {
    const items = list();
    apply(setForEach, value, [(item) => push(items, item)]);
    return items;
  }

  // ---------------------------------------------------------------------------
  // Values as the reports show them: JavaScript literals, bounded. The worker
  // prints expected JSON values the same way (sandbox/javascript/values.mjs).
  function numberText(value) {
    if (objectIs(value, -0)) return "-0";
    return StringRef(value);
  }

  /** A JavaScript-literal rendering of `value`, at most `limit` characters. */
  function repr(value, limit) {
    // `active` (the containers being printed, to spot cycles) is made when the first container is met.
    const state = { room: limit, active: null };
    let text;
    try {
      text = reprValue(value, state, 0);
    } catch {
      text = "<unprintable>";
    }
    if (text.length <= limit) return text;
    return `${slice(text, 0, mathMax(1, limit - 1))}…`;
  }

  function reprValue(value, state, depth) {
    if (state.room <= 0) return "…";
    let text;
    switch (typeof value) {
      case "undefined":
        text = "undefined";
        break;
      case "boolean":
        text = value ? "true" : "false";
        break;
      case "number":
        text = numberText(value);
        break;
      case "bigint":
        text = `${apply(bigintToString, value, [])}n`;
        break;
      case "string":
        text = value.length > state.room + 2 ? `${quote(slice(value, 0, state.room))}…` : quote(value);
        break;
      case "symbol":
        text = shortText(apply(symbolToString, value, []), 200);
        break;
      case "function":
        text = functionText(value);
        break;
      default:
        if (value === null) text = "null";
        else text = reprObject(value, state, depth);
    }
    state.room -= text.length;
    return text;
  }

  function functionText(value) {
    const name = readProperty(value, "name");
    const label = name.ok && typeof name.value === "string" ? shortText(name.value, 200) : "";
    let source = "";
    try {
      source = apply(functionToString, value, []);
    } catch {
      source = "";
    }
    return indexOf(source, "class") === 0 ? `[class ${label || "(anonymous)"}]` : `[Function ${label || "(anonymous)"}]`;
  }

  function reprObject(value, state, depth) {
    if (state.active === null) state.active = list();
    for (let index = 0; index < state.active.length; index++) if (state.active[index] === value) return "[Circular]";
    if (depth >= 6) return isArray(value) ? "[…]" : "{…}";
    push(state.active, value);
    try {
      return reprContainer(value, state, depth);
    } finally {
      state.active.length -= 1;
    }
  }

  function reprItems(items, state, depth, open, close) {
    const parts = list();
    const room = state.room;
    let used = open.length + close.length;
    for (let index = 0; index < items.length; index++) {
      if (used >= room) {
        push(parts, "…");
        break;
      }
      const entry = items[index];
      const saved = state.room;
      state.room = room - used;
      const text = entry.key === undefined ? reprValue(entry.value, state, depth + 1) : `${entry.key}${reprValue(entry.value, state, depth + 1)}`;
      state.room = saved;
      push(parts, text);
      used += text.length + 2;
    }
    return `${open}${join(parts, ", ")}${close}`;
  }

  function item(key, value) {
    return { key, value };
  }

  function reprArray(value, state, depth) {
    const items = list();
    const length = value.length;
    for (let index = 0; index < length && index < 10_000; index++) {
      const property = readProperty(value, StringRef(index));
      push(items, item(undefined, property.ok ? property.value : undefined));
      if (items.length * 2 > state.room) break;
    }
    const text = reprItems(items, state, depth, "[", "]");
    const endsCut = text.length >= 2 && slice(text, text.length - 2) === "…]";
    return items.length < length && !endsCut ? `${slice(text, 0, text.length - 1)}, …]` : text;
  }

  function reprContainer(value, state, depth) {
    if (isArray(value)) return reprArray(value, state, depth);
    const mapSize = tryMapSize(value);
    if (mapSize >= 0) {
      const items = list();
      const pairs = entries(value);
      for (let index = 0; index < pairs.length && items.length * 4 <= state.room; index++) {
        const active = state.active;
        push(items, item(`${reprValue(pairs[index].key, { room: 40, active }, depth + 1)} => `, pairs[index].item));
      }
      return reprItems(items, state, depth, `Map(${mapSize}) {`, "}");
    }
    const setSize = trySetSize(value);
    if (setSize >= 0) {
      const items = list();
      const members = setItems(value);
      for (let index = 0; index < members.length && items.length * 2 <= state.room; index++) push(items, item(undefined, members[index]));
      return reprItems(items, state, depth, `Set(${setSize}) {`, "}");
    }
    const time = tryDateTime(value);
    if (time !== undefined) {
      return isNaN(time) ? "Invalid Date" : `Date(${apply(dateToISOString, value, [])})`;
    }
    const typedName = typedArrayName(value);
    if (typedName !== undefined) {
      const items = list();
      const length = apply(typedArrayLengthGetter, value, []);
      for (let index = 0; index < length && items.length * 2 <= state.room; index++) push(items, item(undefined, value[index]));
      return reprItems(items, state, depth, `${typedName}(${length}) [`, "]");
    }
    if (isError(value)) {
      const name = readProperty(value, "name");
      const message = readProperty(value, "message");
      return `${name.ok ? shortText(name.value, 200) : constructorName(value)}: ${message.ok ? shortText(message.value, 2000) : ""}`;
    }
    if (inheritsFrom(value, PromisePrototype)) return "Promise {…}";
    const items = list();
    const keys = ownData(value);
    for (let index = 0; index < keys.length && items.length * 3 <= state.room; index++) {
      const key = keys[index];
      const property = readProperty(value, key);
      push(items, item(`${isIdentifier(key) ? key : quote(key)}: `, property.ok ? property.value : property.getter ? "[Getter]" : undefined));
    }
    const name = isPlainObject(value) ? "" : `${constructorName(value)} `;
    return reprItems(items, state, depth, `${name}{`, "}");
  }

  // ---------------------------------------------------------------------------
  // Values as they are compared: canonical JSON text. The tags follow the
  // Python harness (values.py) where the types agree. In `compare` mode (the
  // assert helper), object keys and set members are sorted (order does not
  // decide deep equality), functions and symbols are told apart by identity,
  // and any part that cannot be read in full marks the whole value as
  // incomparable: it then equals nothing but itself.
  const CANONICAL_LIMIT = 4_000_000;
  const canonicalTooLarge = freeze(create(null));
  const identities = new WeakMapRef();
  const symbolIdentities = new MapRef();
  let identityCounter = 0;

  function identityOf(value) {
    const known = typeof value === "symbol" ? apply(mapGet, symbolIdentities, [value]) : apply(weakMapGet, identities, [value]);
    if (known !== undefined) return known;
    identityCounter += 1;
    if (typeof value === "symbol") apply(mapSet, symbolIdentities, [value, identityCounter]);
    else apply(weakMapSet, identities, [value, identityCounter]);
    return identityCounter;
  }

  function canonicalOf(value, compare) {
    const state = { size: 0, active: list(), compare, problem: null };
    let text;
    try {
      text = canonicalValue(value, state, 0);
    } catch (error) {
      state.problem = error === canonicalTooLarge ? "the value is too large to compare" : `the value could not be read: ${describeThrown(error).message}`;
      text = `{"$opaque":${quote(state.problem)}}`;
    }
    return { text, problem: state.problem };
  }
  function canonical(value) {
    return canonicalOf(value, false).text;
  }

  function canonicalValue(value, state, depth) {
    if (state.size > CANONICAL_LIMIT) throw canonicalTooLarge;
    let text;
    switch (typeof value) {
      case "undefined":
        text = '{"$undefined":true}';
        break;
      case "boolean":
        text = value ? "true" : "false";
        break;
      case "number":
        text = isNaN(value) ? '{"$f":"nan"}' : !isFinite(value) ? (value > 0 ? '{"$f":"inf"}' : '{"$f":"-inf"}') : objectIs(value, -0) ? "0" : StringRef(value);
        break;
      case "bigint":
        text = `{"$big":${quote(apply(bigintToString, value, []))}}`;
        break;
      case "string":
        if (value.length > CANONICAL_LIMIT - state.size) throw canonicalTooLarge;
        text = quote(value);
        break;
      case "symbol":
      case "function":
        text = state.compare ? `{"$identity":${StringRef(identityOf(value))}}` : `{"$opaque":${quote(repr(value, 200))}}`;
        break;
      default:
        if (value === null) text = "null";
        else {
          if (depth > 64) {
            if (state.compare) state.problem = "the value is nested more than 64 levels deep";
            return '{"$deep":true}';
          }
          for (let index = 0; index < state.active.length; index++) if (state.active[index] === value) return '{"$circular":true}';
          push(state.active, value);
          try {
            text = canonicalObject(value, state, depth);
          } finally {
            state.active.length -= 1;
          }
        }
    }
    state.size += text.length;
    return text;
  }

  function canonicalPairs(pairs, state) {
    return `{"$dict":[${join(state.compare ? sortTexts(pairs) : pairs, ",")}]}`;
  }

  function canonicalObject(value, state, depth) {
    if (isArray(value)) {
      const parts = list();
      const length = value.length;
      for (let index = 0; index < length; index++) {
        const property = readProperty(value, StringRef(index));
        push(parts, canonicalValue(property.ok ? property.value : undefined, state, depth + 1));
      }
      return `[${join(parts, ",")}]`;
    }
    if (tryMapSize(value) >= 0) {
      const pairs = list();
      const found = entries(value);
      for (let index = 0; index < found.length; index++) push(pairs, `[${canonicalValue(found[index].key, state, depth + 1)},${canonicalValue(found[index].item, state, depth + 1)}]`);
      return canonicalPairs(pairs, state);
    }
    if (trySetSize(value) >= 0) {
      const items = list();
      const members = setItems(value);
      for (let index = 0; index < members.length; index++) push(items, canonicalValue(members[index], state, depth + 1));
      return `{"$set":[${join(state.compare ? sortTexts(items) : items, ",")}]}`;
    }
    const time = tryDateTime(value);
    if (time !== undefined) return `{"$date":${isNaN(time) ? "null" : StringRef(time)}}`;
    if (typedArrayName(value) !== undefined) {
      const parts = list();
      const length = apply(typedArrayLengthGetter, value, []);
      for (let index = 0; index < length; index++) push(parts, canonicalValue(value[index], state, depth + 1));
      return `[${join(parts, ",")}]`;
    }
    const pairs = list();
    // Keys that cannot be listed make the value unreadable (not empty): objectKeys may throw here.
    const keys = objectKeys(value);
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index];
      const property = readProperty(value, key);
      if (!property.ok) continue;
      push(pairs, `[${quote(key)},${canonicalValue(property.value, state, depth + 1)}]`);
    }
    if (isPlainObject(value)) return canonicalPairs(pairs, state);
    return `{"$obj":${quote(constructorName(value))},"attrs":${canonicalPairs(pairs, state)}}`;
  }

  // ---------------------------------------------------------------------------
  // Errors: type, message, line in the program, and the program's and test's frames.
  const framePattern = /\(?((?:program|test)\.js):(\d+):(\d+)\)?$/;
  const functionPattern = /^\s*at (?:async )?([^\s(]+) \(/;

  function stackOf(error) {
    try {
      const descriptor = getOwnPropertyDescriptor(error, "stack");
      return descriptor !== undefined && own(descriptor, "value") && typeof descriptor.value === "string" ? descriptor.value : "";
    } catch {
      return "";
    }
  }

  function describeThrown(error, lineOffsets) {
    if (!isError(error)) {
      return { type: "Uncaught", message: `the program threw ${repr(error, 200)}`, line: null, frames: list(), assertion: undefined };
    }
    const name = readProperty(error, "name");
    let type = constructorName(error);
    if (type === "Error" && name.ok && typeof name.value === "string" && name.value !== "Error") type = shortText(name.value, 200);
    const message = readProperty(error, "message");
    const frames = list();
    let line = null;
    const lines = splitText(stackOf(error), "\n");
    for (let index = 1; index < lines.length && frames.length < 64; index++) {
      const match = apply(regexpExec, framePattern, [lines[index]]);
      if (match === null) continue;
      const file = match[1];
      let lineNumber = NumberRef(match[2]);
      if (file === "test.js" && lineOffsets !== undefined) lineNumber -= lineOffsets.test;
      if (file === "program.js" && line === null) line = lineNumber;
      const functionMatch = apply(regexpExec, functionPattern, [lines[index]]);
      push(frames, { file: file === "program.js" ? "program" : "test", line: lineNumber, name: functionMatch === null ? "<anonymous>" : shortText(functionMatch[1], 200) });
    }
    return {
      type,
      message: message.ok ? slice(safeString(message.value), 0, 2000) : "",
      line,
      frames,
      assertion: undefined,
    };
  }

  function errorText(described) {
    let traceback;
    if (described.frames.length > 0) {
      const parts = list();
      push(parts, "Traceback (most recent call first):");
      for (let index = 0; index < described.frames.length; index++) {
        const frame = described.frames[index];
        push(parts, `  at ${frame.name} (<${frame.file}>:${frame.line})`);
      }
      push(parts, `${described.type}: ${described.message}`);
      traceback = join(parts, "\n");
    }
    let text = `{"type":${quote(described.type)},"message":${quote(described.message)},"line":${described.line === null ? "null" : StringRef(described.line)}`;
    if (traceback !== undefined) text += `,"traceback":${quote(traceback)}`;
    if (described.assertion !== undefined) {
      const assertion = described.assertion;
      text += `,"assertion":{"operator":${quote(assertion.operator)},"left":${quote(assertion.left)},"right":${assertion.right === null ? "null" : quote(assertion.right)},"source":${quote(assertion.source)}}`;
    }
    return `${text}}`;
  }

  // ---------------------------------------------------------------------------
  // Per-test state, reset by beginTest.
  const test = {
    stdout: list(),
    stderr: list(),
    stdoutChars: 0,
    stderrChars: 0,
    outputBytes: 0,
    outputLimit: 65_536,
    truncated: false,
    stdin: "",
    stdinConsumed: false,
    exitCode: null,
    reprLimit: 80,
    testLines: 0,
    testSource: list(),
  };

  // Thrown (and recorded) when the program exceeds its output or calls
  // process.exit: a program that catches it is still stopped, because the
  // flag on `test` decides the outcome, not whether the throw got through.
  // One frozen instance each, told apart by identity (a class could be
  // given a Symbol.hasInstance by a program that caught one).
  class OutputLimitSignal {}
  class ExitSignal {}
  const outputLimitSignal = freeze(new OutputLimitSignal());
  const exitSignal = freeze(new ExitSignal());
  freeze(OutputLimitSignal.prototype);
  freeze(ExitSignal.prototype);
  freeze(OutputLimitSignal);
  freeze(ExitSignal);
  function isSignal(error) {
    return error === exitSignal || error === outputLimitSignal;
  }

  function write(stream, text) {
    if (test.truncated) throw outputLimitSignal;
    // Node stops at exit: nothing a program writes after it (having caught the signal) is output.
    if (test.exitCode !== null) throw exitSignal;
    const bytes = utf8Length(text);
    const stdout = stream === test.stdout;
    if (test.outputBytes + bytes > test.outputLimit) {
      const room = test.outputLimit - test.outputBytes;
      if (room > 0) {
        const part = slice(text, 0, room);
        push(stream, part);
        if (stdout) test.stdoutChars += part.length;
        else test.stderrChars += part.length;
      }
      test.outputBytes = test.outputLimit;
      test.truncated = true;
      throw outputLimitSignal;
    }
    test.outputBytes += bytes;
    push(stream, text);
    if (stdout) test.stdoutChars += text.length;
    else test.stderrChars += text.length;
  }

  // ---------------------------------------------------------------------------
  // Node-like printing for console.log (one line per call).
  function inspect(value, depth, nested) {
    switch (typeof value) {
      case "string":
        return nested ? `'${replaceText(value, "'", "\\'")}'` : value;
      case "undefined":
        return "undefined";
      case "number":
        return numberText(value);
      case "bigint":
        return `${apply(bigintToString, value, [])}n`;
      case "boolean":
        return value ? "true" : "false";
      case "symbol":
        return apply(symbolToString, value, []);
      case "function":
        return repr(value, 200);
      default:
        break;
    }
    if (value === null) return "null";
    if (depth > 2) return isArray(value) ? "[Array]" : "[Object]";
    if (isArray(value)) return inspectArray(value, depth);
    if (tryMapSize(value) >= 0) {
      const parts = list();
      const pairs = entries(value);
      for (let index = 0; index < pairs.length; index++) push(parts, `${inspect(pairs[index].key, depth + 1, true)} => ${inspect(pairs[index].item, depth + 1, true)}`);
      return parts.length === 0 ? `Map(0) {}` : `Map(${parts.length}) { ${join(parts, ", ")} }`;
    }
    if (trySetSize(value) >= 0) {
      const parts = list();
      const members = setItems(value);
      for (let index = 0; index < members.length; index++) push(parts, inspect(members[index], depth + 1, true));
      return parts.length === 0 ? `Set(0) {}` : `Set(${parts.length}) { ${join(parts, ", ")} }`;
    }
    if (isError(value)) {
      const described = describeThrown(value);
      return `${described.type}: ${described.message}`;
    }
    if (tryDateTime(value) !== undefined) return repr(value, 200);
    return inspectObject(value, depth);
  }

  function inspectArray(value, depth) {
    if (value.length === 0) return "[]";
    const parts = list();
    for (let index = 0; index < value.length && index < 100; index++) {
      const property = readProperty(value, StringRef(index));
      push(parts, inspect(property.ok ? property.value : undefined, depth + 1, true));
    }
    if (value.length > 100) push(parts, `... ${value.length - 100} more items`);
    return `[ ${join(parts, ", ")} ]`;
  }

  function inspectObject(value, depth) {
    const keys = ownData(value);
    const prefix = isPlainObject(value) ? "" : `${constructorName(value)} `;
    if (keys.length === 0) return `${prefix}{}`;
    const parts = list();
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index];
      const property = readProperty(value, key);
      push(parts, `${isIdentifier(key) ? key : `'${key}'`}: ${property.ok ? inspect(property.value, depth + 1, true) : "[Getter]"}`);
    }
    return `${prefix}{ ${join(parts, ", ")} }`;
  }

  /** One %-directive of console.log's format string. */
  function formatToken(token, value) {
    if (token === "s") return typeof value === "string" ? value : inspect(value, 1, false);
    if (token === "d" || token === "i") return typeof value === "bigint" ? `${apply(bigintToString, value, [])}n` : numberText(token === "i" ? mathFloor(NumberRef(value)) : NumberRef(value));
    if (token === "f") return numberText(NumberRef(value));
    if (token === "j") {
      try {
        return StringRef(globalObject.JSON.stringify(value));
      } catch {
        return "[Circular]";
      }
    }
    return inspect(value, 0, true);
  }

  /** Expands %s %d %i %f %j %o %O %% in `first` from `args` (from index 1); returns the text and the next unused argument. */
  function expandFormat(first, args) {
    let next = 1;
    let text = "";
    let index = 0;
    while (index < first.length) {
      const percent = indexOf(first, "%", index);
      if (percent < 0 || percent === first.length - 1) break;
      text += slice(first, index, percent);
      const token = slice(first, percent + 1, percent + 2);
      if (token === "%") text += "%";
      else if (indexOf("sdifjoO", token) < 0 || next >= args.length) text += `%${token}`;
      else text += formatToken(token, args[next++]);
      index = percent + 2;
    }
    return { text: text + slice(first, index), next };
  }

  function format(args) {
    const first = args.length > 0 ? args[0] : undefined;
    let start = 0;
    const parts = list();
    if (typeof first === "string" && indexOf(first, "%") >= 0 && args.length > 1) {
      const expanded = expandFormat(first, args);
      push(parts, expanded.text);
      start = expanded.next;
    } else if (args.length > 0) {
      push(parts, inspect(first, 0, false));
      start = 1;
    }
    for (let index = start; index < args.length; index++) push(parts, inspect(args[index], 0, false));
    return join(parts, " ");
  }

  function makeLogger(stream) {
    return function log(...args) {
      write(stream(), `${format(args)}\n`);
    };
  }
  const stdoutStream = () => test.stdout;
  const stderrStream = () => test.stderr;
  const consoleObject = {
    log: makeLogger(stdoutStream),
    info: makeLogger(stdoutStream),
    debug: makeLogger(stdoutStream),
    error: makeLogger(stderrStream),
    warn: makeLogger(stderrStream),
    trace: makeLogger(stderrStream),
    dir: (value) => write(test.stdout, `${inspect(value, 0, true)}\n`),
    table: makeLogger(stdoutStream),
    assert: (condition, ...args) => {
      if (!condition) write(test.stderr, `Assertion failed${args.length > 0 ? `: ${format(args)}` : ""}\n`);
    },
  };

  // ---------------------------------------------------------------------------
  // Virtual timers: the clock jumps to the next due timer when nothing else
  // is left to run, so a program that waits a second does not wait at all,
  // and one that never stops is ended by the worker's timeout.
  const timers = new MapRef();
  let timerSequence = 0;
  let virtualNow = 0;

  function addTimer(callback, delay, args, repeat) {
    if (typeof callback !== "function") throw new TypeErrorRef('The "callback" argument must be of type function');
    const id = ++timerSequence;
    const wait = mathFloor(NumberRef(delay) > 0 ? NumberRef(delay) : 0);
    apply(mapSet, timers, [id, { id, due: virtualNow + wait, callback, args, repeat: repeat ? mathMax(1, wait) : 0 }]);
    return id;
  }
  function clearTimer(id) {
    apply(mapDelete, timers, [typeof id === "object" && id !== null ? readProperty(id, "id").value : id]);
  }
  function nextTimer() {
    let best;
    apply(mapForEach, timers, [
      (timer) => {
        if (best === undefined || timer.due < best.due || (timer.due === best.due && timer.id < best.id)) best = timer;
      },
    ]);
    return best;
  }
  function runNextTimer() {
    const timer = nextTimer();
    if (timer === undefined) return false;
    if (timer.due > virtualNow) virtualNow = timer.due;
    if (timer.repeat > 0) timer.due = virtualNow + timer.repeat;
    else apply(mapDelete, timers, [timer.id]);
    apply(timer.callback, undefined, timer.args);
    return true;
  }
  const queueTask = (callback) => {
    apply(promiseThen, apply(promiseResolve, PromiseRef, [undefined]), [() => callback()]);
  };

  // ---------------------------------------------------------------------------
  // Standard input: process.stdin events, fs.readFileSync(0), readline.
  const stdinListeners = { data: list(), end: list() };
  let stdinScheduled = false;
  function scheduleStdin() {
    if (stdinScheduled) return;
    stdinScheduled = true;
    addTimer(
      () => {
        const text = test.stdin;
        test.stdinConsumed = true;
        if (text !== "") for (let index = 0; index < stdinListeners.data.length; index++) stdinListeners.data[index](text);
        for (let index = 0; index < stdinListeners.end.length; index++) stdinListeners.end[index]();
      },
      0,
      [],
      false,
    );
  }
  const stdinObject = {
    fd: 0,
    isTTY: false,
    on(event, listener) {
      if ((event === "data" || event === "end" || event === "close") && typeof listener === "function") {
        push(event === "data" ? stdinListeners.data : stdinListeners.end, listener);
        scheduleStdin();
      }
      return this;
    },
    once(event, listener) {
      return this.on(event, listener);
    },
    addListener(event, listener) {
      return this.on(event, listener);
    },
    setEncoding() {
      return this;
    },
    resume() {
      return this;
    },
    pause() {
      return this;
    },
    read() {
      if (test.stdinConsumed) return null;
      test.stdinConsumed = true;
      return test.stdin;
    },
    [symbolAsyncIterator]() {
      let done = false;
      return {
        next: async () => {
          if (done) return { done: true, value: undefined };
          done = true;
          test.stdinConsumed = true;
          return test.stdin === "" ? { done: true, value: undefined } : { done: false, value: test.stdin };
        },
      };
    },
  };

  function readStdin(pathOrDescriptor) {
    if (pathOrDescriptor === 0 || pathOrDescriptor === "/dev/stdin" || pathOrDescriptor === "0") {
      test.stdinConsumed = true;
      return test.stdin;
    }
    const error = new ErrorRef(`ENOENT: the sandbox has no file system (only standard input, fs.readFileSync(0)), open '${shortText(pathOrDescriptor, 200)}'`);
    error.code = "ENOENT";
    throw error;
  }

  function stdinLines() {
    const lines = splitText(test.stdin, "\n");
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.length -= 1;
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index];
      if (line.length > 0 && charCode(line, line.length - 1) === 13) lines[index] = slice(line, 0, line.length - 1);
    }
    return lines;
  }

  function createInterface() {
    const listeners = { line: list(), close: list() };
    let started = false;
    let closed = false;
    const start = () => {
      if (started) return;
      started = true;
      addTimer(
        () => {
          const lines = stdinLines();
          test.stdinConsumed = true;
          for (let index = 0; index < lines.length && !closed; index++) {
            for (let listener = 0; listener < listeners.line.length; listener++) listeners.line[listener](lines[index]);
          }
          closed = true;
          for (let listener = 0; listener < listeners.close.length; listener++) listeners.close[listener]();
        },
        0,
        [],
        false,
      );
    };
    const lineReader = {
      on(event, listener) {
        if ((event === "line" || event === "close") && typeof listener === "function") {
          push(listeners[event], listener);
          start();
        }
        return lineReader;
      },
      once(event, listener) {
        return lineReader.on(event, listener);
      },
      close() {
        closed = true;
      },
      question(_query, callback) {
        const lines = stdinLines();
        addTimer(() => callback(lines.length > 0 ? lines[0] : ""), 0, [], false);
      },
      setPrompt() {},
      prompt() {},
      [symbolAsyncIterator]() {
        const lines = stdinLines();
        test.stdinConsumed = true;
        let index = 0;
        return { next: async () => (index < lines.length ? { done: false, value: lines[index++] } : { done: true, value: undefined }) };
      },
    };
    return lineReader;
  }

  // ---------------------------------------------------------------------------
  // Promises, awaited without trusting anything the program can replace.
  // A genuine promise is subscribed to with the captured `then`, and only
  // when the lookup that `then` makes (`constructor`, then Symbol.species)
  // is known, by reading data properties, to end at the captured Promise:
  // then no code of the program's runs, and a non-promise makes `then` throw
  // its brand check before anything else. Values that are not genuine
  // promises are the program's own thenables: their `then` is theirs to call.
  function speciesIntact(value) {
    try {
      const constructor = lookupData(value, "constructor");
      if (constructor.getter) return false;
      if (!constructor.ok || constructor.value === undefined) return true;
      if (constructor.value !== PromiseRef) return false;
      const species = getOwnPropertyDescriptor(PromiseRef, symbolSpecies);
      return species !== undefined && !own(species, "value") && species.get === promiseSpeciesGetter;
    } catch {
      return false;
    }
  }
  function subscribeGenuine(value, onValue, onError) {
    if (!speciesIntact(value)) return false;
    try {
      apply(promiseThen, value, [onValue, onError]);
      return true;
    } catch {
      return false; // the brand check: not a promise
    }
  }
  /**
   * Calls onValue/onError with what `value` settles to; true when that comes
   * later. `strict` (an assert test's own promise): a value that inherits
   * from Promise.prototype but cannot be subscribed to safely (the program
   * replaced Promise.prototype.constructor or Promise[Symbol.species]) is an
   * error, never handed to a `then` the program may have replaced.
   */
  function whenSettled(value, onValue, onError, strict) {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) {
      onValue(value);
      return false;
    }
    if (subscribeGenuine(value, onValue, onError)) return true;
    if (strict && inheritsFrom(value, PromisePrototype)) {
      onError(new TypeErrorRef("the test's promise cannot be awaited: Promise.prototype.constructor or Promise[Symbol.species] was replaced"));
      return false;
    }
    let then;
    try {
      then = value.then;
    } catch (error) {
      onError(error);
      return false;
    }
    if (typeof then !== "function") {
      onValue(value);
      return false;
    }
    try {
      apply(then, value, [onValue, onError]);
    } catch (error) {
      onError(error);
    }
    return true;
  }
  /** A promise of the runtime's own, which `await` in test code takes as it is (its `constructor` is its own, the captured Promise). */
  function ownPromise(executor) {
    const promise = new PromiseRef(executor);
    defineProperty(promise, "constructor", { __proto__: null, value: PromiseRef, writable: false, enumerable: false, configurable: false });
    return promise;
  }

  // ---------------------------------------------------------------------------
  // The assertion helper (Node's assert/strict, in part). Comparisons are
  // decided on canonical text (compare mode); an assertion's details are
  // kept in a WeakMap, where a program cannot forge them.
  class AssertionError extends ErrorRef {
    constructor(message) {
      super(message);
      defineProperty(this, "name", { __proto__: null, value: "AssertionError", enumerable: false });
    }
  }
  freeze(AssertionError.prototype);
  freeze(AssertionError);
  const assertionDetails = new WeakMapRef();

  function raise(text, details) {
    const error = new AssertionError(text);
    apply(weakMapSet, assertionDetails, [error, details]);
    throw error;
  }
  function sameValue(left, right) {
    return left === right || (left !== left && right !== right);
  }
  /** Deep equality on canonical text; `problem` says why the values could not be compared (then they are not equal). */
  function deepCompare(left, right) {
    if (sameValue(left, right)) return { equal: true, problem: null };
    const leftText = canonicalOf(left, true);
    const rightText = canonicalOf(right, true);
    const problem = leftText.problem ?? rightText.problem;
    return { equal: problem === null && leftText.text === rightText.text, problem };
  }
  function fail(operator, actual, expected, message, hasExpected, problem) {
    const left = repr(actual, 400);
    const right = hasExpected ? repr(expected, 400) : null;
    const different = operator === "notEqual" || operator === "notDeepEqual";
    let text;
    if (message !== undefined) text = isError(message) ? describeThrown(message).message : shortText(message, 2000);
    else if (problem !== null && problem !== undefined) text = `The values could not be compared (${problem}):\n${left} ${right}`;
    else if (hasExpected) text = `Expected values to be ${operator === "deepEqual" ? "deeply equal" : different ? "different" : "strictly equal"}:\n${left} ${different ? "==" : "!=="} ${right}`;
    else text = `The expression evaluated to a falsy value: ${left}`;
    raise(text, { operator, left, right });
  }

  function matchesExpectation(error, expected) {
    if (expected === undefined) return true;
    if (typeof expected === "function") {
      const prototype = readProperty(expected, "prototype");
      if (prototype.ok && typeof prototype.value === "object" && prototype.value !== null) {
        if (typeof error === "object" && error !== null && inheritsFrom(error, prototype.value)) return true;
        if (prototype.value === ErrorPrototype || inheritsFrom(prototype.value, ErrorPrototype)) return false;
      }
      return apply(expected, undefined, [error]) === true;
    }
    const message = isError(error) ? describeThrown(error).message : safeString(error);
    if (isRegExp(expected)) return regexMatches(expected, message);
    if (typeof expected === "string") return message === expected;
    if (typeof expected === "object" && expected !== null) {
      const keys = ownData(expected);
      for (let index = 0; index < keys.length; index++) {
        const wanted = readProperty(expected, keys[index]).value;
        const actual = error === null || typeof error !== "object" ? undefined : lookupData(error, keys[index]).value;
        if (isRegExp(wanted) ? !regexMatches(wanted, safeString(actual)) : !deepCompare(actual, wanted).equal) return false;
      }
      return true;
    }
    return false;
  }
  function mismatch(operator, thrown, expected, message) {
    const what = operator === "throws" ? "thrown error" : "rejection";
    raise(message ?? `The ${what} did not match: ${repr(thrown, 200)}`, { operator, left: repr(thrown, 400), right: repr(expected, 400) });
  }

  function assert(value, message) {
    if (!value) fail("ok", value, undefined, message, false);
  }
  assert.ok = (value, message) => assert(value, message);
  assert.equal = (actual, expected, message) => {
    if (!sameValue(actual, expected)) fail("equal", actual, expected, message, true);
  };
  assert.strictEqual = assert.equal;
  assert.notEqual = (actual, expected, message) => {
    if (sameValue(actual, expected)) fail("notEqual", actual, expected, message, true);
  };
  assert.notStrictEqual = assert.notEqual;
  assert.deepEqual = (actual, expected, message) => {
    const compared = deepCompare(actual, expected);
    if (!compared.equal) fail("deepEqual", actual, expected, message, true, compared.problem);
  };
  assert.deepStrictEqual = assert.deepEqual;
  assert.notDeepEqual = (actual, expected, message) => {
    // Values that cannot be compared are not known to differ either.
    const compared = deepCompare(actual, expected);
    if (compared.equal || compared.problem !== null) fail("notDeepEqual", actual, expected, message, true, compared.problem);
  };
  assert.notDeepStrictEqual = assert.notDeepEqual;
  assert.throws = (block, expected, message) => {
    if (typeof block !== "function") throw new TypeErrorRef("assert.throws needs a function");
    if (typeof expected === "string" && message === undefined) {
      message = expected;
      expected = undefined;
    }
    let threw = false;
    let thrown;
    try {
      block();
    } catch (error) {
      if (isSignal(error)) throw error;
      threw = true;
      thrown = error;
    }
    if (!threw) fail("throws", "no exception", undefined, message ?? "Missing expected exception.", false);
    if (!matchesExpectation(thrown, expected)) mismatch("throws", thrown, expected, message);
  };
  assert.doesNotThrow = (block, message) => {
    try {
      block();
    } catch (error) {
      if (isSignal(error)) throw error;
      fail("doesNotThrow", error, undefined, message ?? `Got unwanted exception: ${repr(error, 200)}`, false);
    }
  };
  assert.rejects = (promiseOrFunction, expected, message) =>
    ownPromise((resolve, reject) => {
      const judge = (threw, thrown) => {
        try {
          if (threw && isSignal(thrown)) throw thrown;
          if (!threw) fail("rejects", "no rejection", undefined, message ?? "Missing expected rejection.", false);
          if (!matchesExpectation(thrown, expected)) mismatch("rejects", thrown, expected, message);
          resolve(undefined);
        } catch (error) {
          reject(error);
        }
      };
      let value;
      try {
        value = typeof promiseOrFunction === "function" ? promiseOrFunction() : promiseOrFunction;
      } catch (error) {
        judge(true, error);
        return;
      }
      whenSettled(value, () => judge(false, undefined), (error) => judge(true, error), true);
    });
  assert.fail = (message) => {
    raise(message === undefined ? "Failed" : shortText(message, 2000), { operator: "fail", left: "fail()", right: null });
  };
  assert.match = (text, pattern, message) => {
    if (!isRegExp(pattern)) throw new TypeErrorRef('The "regexp" argument must be an instance of RegExp');
    if (typeof text !== "string" || !regexMatches(pattern, text)) fail("match", text, pattern, message, true);
  };
  assert.AssertionError = AssertionError;
  assert.strict = assert;
  freeze(assert);

  // ---------------------------------------------------------------------------
  // The program's globals.
  const moduleRecord = { exports: {} };
  const utilModule = freeze({ inspect: (value) => inspect(value, 0, true), format: (...args) => format(args) });
  function requireModule(name) {
    const specifier = typeof name === "string" && indexOf(name, "node:") === 0 ? slice(name, 5) : name;
    switch (specifier) {
      case "assert":
      case "assert/strict":
        return assert;
      case "fs":
        return freeze({ readFileSync: readStdin });
      case "readline":
        return freeze({ createInterface });
      case "util":
        return utilModule;
      default: {
        const error = new ErrorRef(`Cannot find module '${shortText(name, 200)}' (the sandbox provides assert, fs for standard input, readline and util)`);
        error.code = "MODULE_NOT_FOUND";
        throw error;
      }
    }
  }

  const processObject = {
    argv: ["node", "program.js"],
    env: {},
    platform: "linux",
    version: "v20",
    versions: {},
    exitCode: undefined,
    stdout: { write: (text) => (write(test.stdout, safeString(text)), true), isTTY: false },
    stderr: { write: (text) => (write(test.stderr, safeString(text)), true), isTTY: false },
    stdin: stdinObject,
    exit(code) {
      // The first exit counts, read now (a code object's toString runs in the program's own call, not in the report).
      if (test.exitCode === null) test.exitCode = code === undefined ? "0" : shortText(code, 100);
      throw exitSignal;
    },
    nextTick(callback, ...args) {
      queueTask(() => apply(callback, undefined, args));
    },
    hrtime: freeze({ bigint: () => BigIntRef(mathFloor(virtualNow * 1e6)) }),
    memoryUsage: () => ({ heapUsed: 0, heapTotal: 0, rss: 0 }),
    cwd: () => "/",
    on() {
      return processObject;
    },
  };

  // Seeded Math.random (mulberry32): a traced re-run takes the same path as the run it explains.
  let randomState = 1;
  function random() {
    randomState = (randomState + 0x6d2b79f5) | 0;
    let value = mathImul(randomState ^ (randomState >>> 15), 1 | randomState);
    value = (value + mathImul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  }
  Math.random = random;

  const programGlobals = {
    console: consoleObject,
    process: processObject,
    require: requireModule,
    module: moduleRecord,
    exports: moduleRecord.exports,
    setTimeout: (callback, delay, ...args) => addTimer(callback, delay, args, false),
    setInterval: (callback, delay, ...args) => addTimer(callback, delay, args, true),
    setImmediate: (callback, ...args) => addTimer(callback, 0, args, false),
    clearTimeout: clearTimer,
    clearInterval: clearTimer,
    clearImmediate: clearTimer,
    queueMicrotask: (callback) => queueTask(callback),
    structuredClone: (value) => parseJson(globalObject.JSON.stringify(value)),
  };
  const names = objectKeys(programGlobals);
  for (let index = 0; index < names.length; index++) {
    defineProperty(globalObject, names[index], { __proto__: null, value: programGlobals[names[index]], writable: true, configurable: true, enumerable: false });
  }
  // `assert` cannot be replaced on the global object (a program's own
  // top-level `let assert` can shadow it; tests get the helper as a parameter).
  defineProperty(globalObject, "assert", { __proto__: null, value: assert, writable: true, configurable: true, enumerable: false });

  // ---------------------------------------------------------------------------
  // The trace recorder. The instrumented program (instrument.mjs) calls it as
  //   const R = (n, t) => [parentR, t ? this : 0, n > 0 ? a : 0, ...]   one reader per scope
  //   const f = T.c(name, line, R, level)                                entering a function
  //   T.s(f, site, R)                                                    before each statement
  //   return T.r(f, value)                                               at a return
  //   T.x(f, error) / T.o(f)                                             in the wrapping catch / finally
  // A reader reads the first n names of its scope (those declared before the
  // statement, so never one in its temporal dead zone) and hands on its
  // parent scope's reader; the site table (from the worker, never from the
  // program) says per site its line, its scope and how many names of that
  // scope and of its var scope it sees; each scope's names and their order.
  // The recorder is reachable by the program (its global has an unguessable
  // name, but globals can be listed): whatever it passes is checked, frames
  // are known by identity, so a program can only mislead its own trace.
  // Events follow the Python harness: a line event is the *completed* line
  // with the state after it, settled when the frame's next site (or its exit) runs.
  const recorder = {
    on: false,
    eventCount: 0,
    lineCount: 0,
    depth: 0,
    head: list(),
    headCapacity: 0,
    tail: list(),
    tailCapacity: 0,
    tailStart: 0,
    mode: "head",
    moduleFrame: undefined,
  };
  /** Frames are instances of this class, told apart by a private field (`#frame in value` runs no code of the program's). */
  // Its fields are class fields (defined, never assigned through a setter), all of them there from the start.
  class Frame {
    #frame = true;
    name = "";
    line = 1;
    depth = 0;
    pending = null;
    previous = create(null);
    site = 0;
    reader = undefined;
    lastSite = -1;
    lastLine = -1;
    returned = false;
    threw = false;
    closed = false;
    static is(value) {
      return typeof value === "object" && value !== null && #frame in value;
    }
  }
  /** levels[i] = [names, ordinals, parent, parentCount, showsThis, callShowsThis, params]; sites: 5 numbers per site. */
  // Built by configure before the program runs, read only by index: plain arrays.
  const siteTable = { levels: [], sites: [], count: 0 };
  const SITE_FIELDS = 5;

  freeze(Frame.prototype);
  freeze(Frame);
  const isFrame = Frame.is;
  function isSite(site) {
    return typeof site === "number" && site >= 1 && site <= siteTable.count && mathFloor(site) === site;
  }
  function levelOf(index) {
    return typeof index === "number" && index >= 0 && index < siteTable.levels.length && mathFloor(index) === index ? siteTable.levels[index] : undefined;
  }

  /** Reads the names a site sees, innermost scope first: [{name, ordinal, value}], and `this` when shown. */
  function readScopes(level, count, varLevel, varCount, reader, found) {
    let current = reader;
    let index = level;
    let visible = count;
    while (typeof current === "function") {
      const meta = levelOf(index);
      if (meta === undefined) break;
      const values = current(visible, meta[4] === 1);
      if (meta[4] === 1 && found.showThis === false) {
        found.showThis = true;
        found.thisValue = values[1];
      }
      const names = meta[0];
      const ordinals = meta[1];
      for (let position = 0; position < visible && position < names.length; position++) {
        push(found.items, { name: names[position], ordinal: ordinals[position], value: values[position + 2] });
      }
      if (meta[2] < 0) break;
      index = meta[2];
      visible = index === varLevel ? varCount : meta[3];
      current = values[0];
    }
  }

  /** The state shown for a set of read names: `this` first, then by declaration order; an inner binding hides an outer one of the same name. */
  function stateOf(found) {
    const state = create(null);
    if (found.showThis && typeof found.thisValue !== "function") state["this"] = repr(found.thisValue, test.reprLimit);
    const chosen = create(null);
    const order = [];
    for (let index = 0; index < found.items.length; index++) {
      const entry = found.items[index];
      const known = chosen[entry.name];
      if (known === undefined) {
        chosen[entry.name] = entry;
        push(order, entry);
      } else if (entry.ordinal < known.ordinal) known.ordinal = entry.ordinal;
    }
    // Insertion sort: the names are nearly in order already.
    for (let index = 1; index < order.length; index++) {
      const entry = order[index];
      let position = index - 1;
      while (position >= 0 && order[position].ordinal > entry.ordinal) {
        order[position + 1] = order[position];
        position -= 1;
      }
      order[position + 1] = entry;
    }
    for (let index = 0; index < order.length; index++) {
      const entry = order[index];
      if (typeof entry.value === "function" || entry.name === "this") continue;
      state[entry.name] = repr(entry.value, test.reprLimit);
    }
    return state;
  }

  // The recorder's own working lists are plain arrays: they hold only the
  // program's own values, so a hook on Array.prototype could at worst
  // mislead the program's own trace (never a verdict), and plain arrays are
  // several times cheaper per recorded event.
  function newFound() {
    return { items: [], showThis: false, thisValue: undefined };
  }

  /** The state a site sees (empty when a name cannot be read yet, e.g. `this` before super()). */
  function snapshot(site, reader) {
    if (!isSite(site) || typeof reader !== "function") return create(null);
    const base = (site - 1) * SITE_FIELDS;
    const sites = siteTable.sites;
    const found = newFound();
    try {
      readScopes(sites[base + 1], sites[base + 2], sites[base + 3], sites[base + 4], reader, found);
    } catch {
      return create(null);
    }
    return stateOf(found);
  }

  /** A call's state: its parameters (and `this` in a method other than a constructor). */
  function callSnapshot(level, reader) {
    const meta = levelOf(level);
    if (meta === undefined || typeof reader !== "function") return create(null);
    const found = newFound();
    try {
      const values = reader(meta[6], meta[5] === 1);
      if (meta[5] === 1) {
        found.showThis = true;
        found.thisValue = values[1];
      }
      for (let position = 0; position < meta[6]; position++) push(found.items, { name: meta[0][position], ordinal: meta[1][position], value: values[position + 2] });
    } catch {
      return create(null);
    }
    return stateOf(found);
  }

  function shouldRecord() {
    const ordinal = recorder.eventCount;
    if (recorder.mode === "head") return ordinal <= recorder.headCapacity;
    if (recorder.mode === "from") return ordinal >= recorder.tailStart;
    return true; // "ring": keep the newest tailCapacity events
  }
  function emit(event) {
    event.step = recorder.eventCount;
    if (recorder.mode === "ring" && recorder.eventCount > recorder.headCapacity) {
      // A run replayed to its deadline: the head as usual, then the newest events.
      push(recorder.tail, event);
      if (recorder.tail.length > recorder.tailCapacity * 2) {
        const kept = list();
        for (let index = recorder.tail.length - recorder.tailCapacity; index < recorder.tail.length; index++) push(kept, recorder.tail[index]);
        recorder.tail = kept;
      }
    } else if (recorder.mode === "from") push(recorder.tail, event);
    else push(recorder.head, event);
  }
  function newEvent(kind, line, frame) {
    return { step: 0, event: kind, line, function: frame.name, depth: frame.depth, locals: undefined, changed: undefined, value: undefined };
  }
  function settle(frame, site, reader) {
    const event = frame.pending;
    if (event === null) return;
    frame.pending = null;
    // The state after the line: the names its own site saw, read through its
    // own readers (a loop variable keeps this iteration's value, even when the
    // next site already sees the next iteration's), then the names only the
    // next site sees (those the line itself declared).
    const current = snapshot(frame.site, frame.reader);
    if (reader !== undefined && (reader !== frame.reader || site !== frame.site)) {
      const later = snapshot(site, reader);
      const laterKeys = objectKeys(later);
      for (let index = 0; index < laterKeys.length; index++) {
        if (!(laterKeys[index] in current)) current[laterKeys[index]] = later[laterKeys[index]];
      }
    }
    const changed = [];
    const keys = objectKeys(current);
    for (let index = 0; index < keys.length; index++) if (frame.previous[keys[index]] !== current[keys[index]]) push(changed, keys[index]);
    event.locals = current;
    event.changed = changed;
    frame.previous = current;
  }
  function frameFor(name, line) {
    const frame = new Frame();
    frame.name = name;
    frame.line = line;
    frame.depth = recorder.depth;
    return frame;
  }
  function lineOf(frame) {
    return frame.lastLine > 0 ? frame.lastLine : frame.line;
  }

  const traceApi = freeze({
    c(name, line, reader, level) {
      recorder.depth += 1;
      const frame = frameFor(typeof name === "string" ? shortText(name, 200) : "<anonymous>", typeof line === "number" && line >= 1 ? mathFloor(line) : 1);
      if (!recorder.on) return frame;
      recorder.eventCount += 1;
      if (shouldRecord()) {
        const current = callSnapshot(level, reader);
        frame.previous = current;
        const event = newEvent("call", frame.line, frame);
        event.locals = current;
        event.changed = objectKeys(current);
        emit(event);
      }
      return frame;
    },
    s(frame, site, reader) {
      if (!recorder.on || !isFrame(frame) || !isSite(site)) return;
      const line = siteTable.sites[(site - 1) * SITE_FIELDS];
      // Statements flowing forward on one line are one line event (a loop
      // written on one line still gives one event per iteration: its sites
      // repeat with a lower number). Decided the same way whether or not
      // events are being kept, so counts match between a run and its replay.
      if (line === frame.lastLine && site > frame.lastSite) {
        frame.lastSite = site;
        frame.site = site;
        frame.reader = reader;
        return;
      }
      if (frame.pending !== null) settle(frame, site, reader);
      frame.lastSite = site;
      frame.lastLine = line;
      frame.site = site;
      frame.reader = reader;
      recorder.eventCount += 1;
      recorder.lineCount += 1;
      if (shouldRecord()) {
        const event = newEvent("line", line, frame);
        frame.pending = event;
        emit(event);
      }
    },
    r(frame, value) {
      if (!recorder.on || !isFrame(frame)) return value;
      if (frame.pending !== null) settle(frame, 0, undefined);
      recorder.eventCount += 1;
      frame.returned = true;
      if (shouldRecord()) {
        const event = newEvent("return", lineOf(frame), frame);
        event.value = repr(value, test.reprLimit);
        emit(event);
      }
      return value;
    },
    x(frame, error) {
      if (!isFrame(frame)) return;
      frame.threw = true;
      if (!recorder.on || isSignal(error)) return;
      if (frame.pending !== null) settle(frame, 0, undefined);
      recorder.eventCount += 1;
      if (shouldRecord()) {
        const described = describeThrown(error);
        const event = newEvent("exception", lineOf(frame), frame);
        event.value = described.message === "" ? described.type : `${described.type}: ${described.message}`;
        emit(event);
      }
    },
    o(frame) {
      if (!isFrame(frame) || frame.closed) return;
      frame.closed = true;
      recorder.depth -= 1;
      // A function that ends without `return` returns undefined.
      if (!recorder.on || frame.returned || frame.threw) return;
      if (frame.pending !== null) settle(frame, 0, undefined);
      recorder.eventCount += 1;
      if (shouldRecord()) {
        const event = newEvent("return", lineOf(frame), frame);
        event.value = "undefined";
        emit(event);
      }
    },
    m() {
      // The program's top level as a frame of its own (depth 1, like Python's module frame).
      recorder.depth += 1;
      const frame = frameFor("<module>", 1);
      recorder.moduleFrame = frame;
      return frame;
    },
  });

  function eventText(event) {
    let text = `{"step":${event.step === null ? "null" : StringRef(event.step)},"event":"${event.event}","line":${StringRef(event.line)},"function":${quote(event.function)},"depth":${StringRef(event.depth)}`;
    if (event.locals !== undefined) {
      const keys = objectKeys(event.locals);
      const parts = [];
      for (let index = 0; index < keys.length; index++) push(parts, `${quote(keys[index])}:${quote(event.locals[keys[index]])}`);
      text += `,"locals":{${join(parts, ",")}}`;
      const changed = [];
      for (let index = 0; index < event.changed.length; index++) push(changed, quote(event.changed[index]));
      text += `,"changed":[${join(changed, ",")}]`;
    }
    if (event.value !== undefined) text += `,"value":${quote(event.value)}`;
    return `${text}}`;
  }

  /**
   * The recorded events as JSON texts within `limit` characters, cut where
   * the worker expects its gap: a head run that went on (its tail comes
   * from a replay) loses its newest events, a replay of the tail its
   * oldest, a whole run or a ring replay its middle (around the head/tail
   * boundary for a ring). Returns the texts and where the cut is.
   */
  function boundedEvents(limit) {
    const head = recorder.head;
    const tail = recorder.tail;
    const first = recorder.mode === "ring" && tail.length > recorder.tailCapacity ? tail.length - recorder.tailCapacity : 0;
    const texts = [];
    for (let index = 0; index < head.length; index++) push(texts, eventText(head[index]));
    const boundary = texts.length;
    for (let index = first; index < tail.length; index++) push(texts, eventText(tail[index]));
    let total = 0;
    for (let index = 0; index < texts.length; index++) total += texts[index].length + 1;
    if (total <= limit) return { texts, cutAt: -1, omitted: 0 };
    const ongoing = recorder.eventCount > recorder.headCapacity;
    const keepFrom = recorder.mode === "head" && ongoing ? "start" : recorder.mode === "from" ? "end" : "both";
    const headLimit = keepFrom === "start" ? limit : keepFrom === "end" ? 0 : mathFloor(limit / 2);
    const stop = recorder.mode === "ring" && ongoing ? boundary : texts.length;
    let prefix = 0;
    let used = 0;
    while (prefix < stop && used + texts[prefix].length + 1 <= headLimit) used += texts[prefix++].length + 1;
    let suffix = texts.length;
    while (keepFrom !== "start" && suffix > prefix && used + texts[suffix - 1].length + 1 <= limit) used += texts[--suffix].length + 1;
    const kept = [];
    for (let index = 0; index < prefix; index++) push(kept, texts[index]);
    for (let index = suffix; index < texts.length; index++) push(kept, texts[index]);
    return { texts: kept, cutAt: prefix, omitted: suffix - prefix };
  }

  // ---------------------------------------------------------------------------
  // The driver the worker calls.
  const outcome = { kind: "none", value: undefined, error: undefined, settled: false };

  function resetOutcome() {
    outcome.kind = "none";
    outcome.value = undefined;
    outcome.error = undefined;
    outcome.settled = false;
  }

  function settleWith(kind, payload) {
    if (outcome.settled) return;
    outcome.settled = true;
    outcome.kind = kind;
    if (kind === "returned") outcome.value = payload;
    else outcome.error = payload;
  }

  /** Accept a returned value: a promise (native or not) is awaited; `strict` for an assert test's own result. */
  function acceptResult(value, strict) {
    whenSettled(
      value,
      (result) => settleWith("returned", result),
      (error) => settleWith("error", error),
      strict,
    );
  }

  function guarded(action) {
    try {
      action();
    } catch (error) {
      settleWith("error", error);
    }
  }

  function loadSites(table) {
    if (table === null || typeof table !== "object") return;
    siteTable.levels = table.levels;
    siteTable.sites = table.sites;
    siteTable.count = mathFloor(table.sites.length / SITE_FIELDS);
  }

  /** The test's outcome as the start of a JSON object's members. */
  function outcomeText(kind) {
    if (test.truncated) return '"outcome":"output"';
    if (test.exitCode !== null) return `"outcome":"exit","exit_code":${quote(test.exitCode)}`;
    if (!outcome.settled) return `"outcome":"${kind === "stdio" ? "returned" : "pending"}"`;
    if (outcome.kind === "returned") {
      return kind === "call" ? `"outcome":"returned","actual":${canonical(outcome.value)},"actual_repr":${quote(repr(outcome.value, 2000))}` : '"outcome":"returned"';
    }
    if (outcome.kind === "host-error") return `"outcome":"error","error":${outcome.error}`;
    const described = describeThrown(outcome.error, { test: test.testLines });
    const details = typeof outcome.error === "object" && outcome.error !== null ? apply(weakMapGet, assertionDetails, [outcome.error]) : undefined;
    if (details !== undefined) {
      // The test's line that made the failing call (none when the program itself asserted).
      let sourceLine = 0;
      for (let index = 0; index < described.frames.length; index++) if (described.frames[index].file === "test") sourceLine = described.frames[index].line;
      described.assertion = { operator: details.operator, left: details.left, right: details.right, source: driver.testSourceLine(sourceLine) };
    }
    return `"outcome":"error","error":${errorText(described)}`;
  }

  const batch = { state: "more" };
  const driver = {
    /** Called once per context, before the program: where the recorder lives, the limits, the site table. */
    configure(configText) {
      const config = parseJson(configText);
      test.reprLimit = config.reprLimit;
      test.outputLimit = config.outputBytes;
      if (typeof config.tracerName === "string" && isIdentifier(config.tracerName)) {
        defineProperty(globalObject, config.tracerName, { __proto__: null, value: traceApi, writable: false, configurable: false, enumerable: false });
      }
      loadSites(config.sites);
    },
    /** Resets per-test state; `trace` switches recording on for this test. The worker sends every field. */
    beginTest(configText) {
      const config = parseJson(configText);
      test.stdout = list();
      test.stderr = list();
      test.stdoutChars = 0;
      test.stderrChars = 0;
      test.outputBytes = 0;
      test.truncated = false;
      test.stdin = typeof config.stdin === "string" ? config.stdin : "";
      test.stdinConsumed = false;
      test.exitCode = null;
      test.testLines = config.testLines;
      randomState = config.seed;
      virtualNow = 0;
      apply(mapClear, timers, []);
      stdinScheduled = false;
      stdinListeners.data = list();
      stdinListeners.end = list();
      batch.state = "more";
      resetOutcome();
      const trace = config.trace;
      recorder.eventCount = 0;
      recorder.lineCount = 0;
      recorder.depth = 0;
      recorder.head = list();
      recorder.tail = list();
      recorder.on = trace !== null;
      if (recorder.on) {
        recorder.mode = trace.mode;
        recorder.headCapacity = trace.head;
        recorder.tailCapacity = trace.tail;
        recorder.tailStart = trace.from;
      }
    },
    /** A call test: the entry point (resolved by name) with the arguments. */
    callEntry(name, argumentsText, argumentList) {
      guarded(() => {
        const entry = driver.resolve(name);
        if (typeof entry !== "function") {
          throw new TypeErrorRef(entry === undefined ? `${name} is not defined: the program must define a function named ${name}` : `${name} is not a function (it is ${repr(entry, 80)})`);
        }
        const args = argumentList !== undefined ? argumentList : parseJson(argumentsText);
        if (!isArray(args)) throw new TypeErrorRef(`the test's input must evaluate to an array of arguments, not ${repr(args, 80)}`);
        acceptResult(apply(entry, undefined, args), false);
      });
    },
    /** An assert test: the test code compiled as a function of (assert, require). */
    runTestFunction(testFunction) {
      guarded(() => acceptResult(apply(testFunction, undefined, [assert, requireModule]), true));
    },
    /** A stdio test's program finished its top level (or threw there). */
    programFinished(threw, errorJson) {
      if (threw) settleWith("host-error", errorJson);
    },
    resolve(name) {
      if (!isIdentifier(name)) return undefined;
      let value;
      try {
        value = globalEval(`typeof ${name} === "undefined" ? undefined : ${name}`);
      } catch {
        value = undefined;
      }
      if (value !== undefined) return value;
      const exported = moduleRecord.exports;
      if (typeof exported === "function") {
        const found = readProperty(exported, name);
        return found.ok ? found.value : exported;
      }
      if (exported !== null && typeof exported === "object") {
        const found = readProperty(exported, name);
        if (found.ok) return found.value;
        const fallback = readProperty(exported, "default");
        if (fallback.ok && typeof fallback.value === "function") return fallback.value;
      }
      return undefined;
    },
    /**
     * Runs one virtual-timer task if the test is still going; the worker calls
     * this until it answers "done" (settled, or nothing left to run) or the
     * test's time is up. Microtasks run between calls.
     */
    step(stdio) {
      if (test.exitCode !== null || test.truncated) return "done";
      if (!stdio && outcome.settled) return "done";
      try {
        if (runNextTimer()) return "more";
      } catch (error) {
        if (!isSignal(error)) settleWith("error", error);
        return test.exitCode !== null || test.truncated || !stdio ? (outcome.settled ? "done" : "more") : "done";
      }
      if (stdio) {
        if (!outcome.settled) settleWith("returned", undefined);
        return "done";
      }
      return outcome.settled ? "done" : "idle";
    },
    /**
     * Like step, many tasks per call: a program that schedules thousands of
     * timers would otherwise need thousands of host calls, each arming an
     * isolated-vm timeout that lingers until it is due (isolated-vm #572:
     * enough of them crash the process). The batch runs during this call's
     * microtask checkpoint, letting the program's own microtasks run between
     * tasks; the call answers how the previous batch ended.
     */
    stepMany(stdio, count) {
      const ended = batch.state;
      if (ended === "done" || ended === "idle") return ended;
      batch.state = "running";
      (async () => {
        let state = "more";
        for (let index = 0; index < count && state === "more"; index++) {
          state = driver.step(stdio);
          for (let turn = 0; turn < 8; turn++) await undefined;
        }
        batch.state = state;
      })();
      return "more";
    },
    /**
     * The test's result as JSON text (read by the worker): the outcome, how
     * much output there is (read with `output`), and the trace's events
     * within `traceLimit` characters.
     */
    finish(kind, traceLimit) {
      let text = `{${outcomeText(kind)},"stdout_chars":${StringRef(test.stdoutChars)},"stderr_chars":${StringRef(test.stderrChars)},"truncated":${test.truncated ? "true" : "false"}`;
      if (recorder.on) {
        const events = boundedEvents(traceLimit);
        text += `,"trace":{"events":[${join(events.texts, ",")}],"event_count":${StringRef(recorder.eventCount)},"line_count":${StringRef(recorder.lineCount)},"cut_at":${StringRef(events.cutAt)},"omitted":${StringRef(events.omitted)}}`;
      }
      return `${text}}`;
    },
    /** A test's whole stdout or stderr (the worker judges on all of it, then bounds what it shows). */
    output(stream) {
      return join(stream === "stderr" ? test.stderr : test.stdout, "");
    },
    testSourceLine(line) {
      const lines = test.testSource;
      return line >= 1 && line <= lines.length ? shortText(trimText(lines[line - 1]), 2000) : "";
    },
    setTestSource(source) {
      test.testSource = splitText(source, "\n");
    },
    /** The value of an `output` expression, canonical and shown (called in an isolate of its own, without the program). */
    expectedValue(value) {
      return `{"canonical":${canonical(value)},"repr":${quote(repr(value, 2000))}}`;
    },
    /** A stdio program's top level threw (described by the worker): the module frame's exception event. */
    moduleThrew(value) {
      const frame = recorder.moduleFrame;
      if (!recorder.on || frame === undefined) return;
      frame.threw = true;
      if (frame.pending !== null) settle(frame, 0, undefined);
      recorder.eventCount += 1;
      if (shouldRecord()) {
        const event = newEvent("exception", frame.lastLine > 0 ? frame.lastLine : 1, frame);
        event.value = shortText(value, 4000);
        emit(event);
      }
    },
    /** Settle what is still open at the end of a test (a module frame, a frame cut by a timeout). */
    settleOpen() {
      const frame = recorder.moduleFrame;
      if (recorder.on && frame !== undefined && frame.pending !== null) settle(frame, 0, undefined);
    },
  };
  return freeze(driver);
})();
