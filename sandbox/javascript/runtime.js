/*
 * The runtime of one JavaScript run, evaluated first in every fresh
 * isolate-vm context (sandbox/javascript/worker.mjs). It is the only code the
 * program shares a heap with, so it is written for a hostile neighbour:
 *
 * - every built-in it uses is captured here, before the program runs, and
 *   called through `apply`, so a program that rewrites Array.prototype.push,
 *   JSON.stringify or Object.keys changes nothing here;
 * - everything it reports to the worker is a primitive string built by hand
 *   (never JSON.stringify of an object, which would call a polluted toJSON);
 * - the verdict is not decided here: return values leave as canonical JSON
 *   text and the worker compares them with the expected value, which never
 *   enters the isolate.
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
  const apply = Reflect.apply;
  const defineProperty = Object.defineProperty;
  const freeze = Object.freeze;
  const getPrototypeOf = Object.getPrototypeOf;
  const getOwnPropertyNames = Object.getOwnPropertyNames;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const objectKeys = Object.keys;
  const isArray = Array.isArray;
  const objectIs = Object.is;
  const create = Object.create;
  const stringifyPrimitive = JSON.stringify;
  const parseJson = JSON.parse;
  const StringRef = String;
  const NumberRef = Number;
  const isInteger = Number.isInteger;
  const isFinite = Number.isFinite;
  const isNaN = Number.isNaN;
  const mathFloor = Math.floor;
  const mathImul = Math.imul;
  const ErrorRef = Error;
  const TypeErrorRef = TypeError;
  const RangeErrorRef = RangeError;
  const PromiseRef = Promise;
  const promiseThen = Promise.prototype.then;
  const promiseResolve = Promise.resolve;
  const stringSlice = String.prototype.slice;
  const stringIndexOf = String.prototype.indexOf;
  const stringSplit = String.prototype.split;
  const stringCharCodeAt = String.prototype.charCodeAt;
  const stringReplace = String.prototype.replace;
  const regexpTest = RegExp.prototype.test;
  const regexpExec = RegExp.prototype.exec;
  const functionToString = Function.prototype.toString;
  const MapRef = Map;
  const SetRef = Set;
  const DateRef = Date;
  const mapForEach = Map.prototype.forEach;
  const setForEach = Set.prototype.forEach;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const mapHas = Map.prototype.has;
  const mapDelete = Map.prototype.delete;
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
  for (const name of ["WebAssembly", "SharedArrayBuffer", "Atomics"]) {
    try {
      delete globalObject[name];
    } catch {
      /* not configurable in this V8: left as is */
    }
  }
  Error.stackTraceLimit = errorStackLimit;

  // ---------------------------------------------------------------------------
  // Small helpers on captured built-ins (never the program's versions).
  function slice(text, start, end) {
    return apply(stringSlice, text, end === undefined ? [start] : [start, end]);
  }
  function push(list, item) {
    list[list.length] = item;
  }
  function join(list, separator) {
    let text = "";
    for (let index = 0; index < list.length; index++) text += (index === 0 ? "" : separator) + list[index];
    return text;
  }
  function quote(text) {
    return stringifyPrimitive(text);
  }
  function utf8Length(text) {
    let bytes = text.length;
    for (let index = 0; index < text.length; index++) {
      const code = apply(stringCharCodeAt, text, [index]);
      if (code >= 0x80) bytes += code >= 0x800 && (code < 0xd800 || code > 0xdfff) ? 2 : 1;
    }
    return bytes;
  }
  const identifierPattern = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  function isIdentifier(text) {
    return apply(regexpTest, identifierPattern, [text]);
  }
  function safeString(value) {
    try {
      return StringRef(value);
    } catch {
      return "<unprintable>";
    }
  }
  function isPlainObject(value) {
    let prototype;
    try {
      prototype = getPrototypeOf(value);
    } catch {
      return false;
    }
    return prototype === null || prototype === ObjectRef.prototype;
  }
  function constructorName(value) {
    try {
      let prototype = getPrototypeOf(value);
      while (prototype !== null) {
        const descriptor = getOwnPropertyDescriptor(prototype, "constructor");
        if (descriptor !== undefined && "value" in descriptor && typeof descriptor.value === "function") {
          const nameDescriptor = getOwnPropertyDescriptor(descriptor.value, "name");
          if (nameDescriptor !== undefined && typeof nameDescriptor.value === "string" && nameDescriptor.value !== "") return nameDescriptor.value;
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
    const names = [];
    let keys;
    try {
      keys = objectKeys(value);
    } catch {
      return names;
    }
    for (let index = 0; index < keys.length; index++) push(names, keys[index]);
    return names;
  }
  function readProperty(value, key) {
    const descriptor = getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined) return { ok: false };
    if ("value" in descriptor) return { ok: true, value: descriptor.value };
    return { ok: false, getter: true };
  }
  function isError(value) {
    let prototype = value;
    try {
      while (prototype !== null && typeof prototype === "object") {
        if (prototype === ErrorRef.prototype) return true;
        prototype = getPrototypeOf(prototype);
      }
    } catch {
      return false;
    }
    return false;
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

  // ---------------------------------------------------------------------------
  // Values as the reports show them: JavaScript literals, bounded.
  function numberText(value) {
    if (objectIs(value, -0)) return "-0";
    return StringRef(value);
  }

  /** A JavaScript-literal rendering of `value`, at most `limit` characters. */
  function repr(value, limit) {
    const state = { room: limit, active: [] };
    const text = reprValue(value, state, 0);
    if (text.length <= limit) return text;
    return `${slice(text, 0, Math.max(1, limit - 1))}…`;
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
        text = apply(symbolToString, value, []);
        break;
      case "function": {
        const descriptor = getOwnPropertyDescriptor(value, "name");
        const name = descriptor !== undefined && typeof descriptor.value === "string" ? descriptor.value : "";
        let source = "";
        try {
          source = apply(functionToString, value, []);
        } catch {
          source = "";
        }
        text = apply(stringIndexOf, source, ["class"]) === 0 ? `[class ${name || "(anonymous)"}]` : `[Function ${name || "(anonymous)"}]`;
        break;
      }
      default:
        if (value === null) text = "null";
        else text = reprObject(value, state, depth);
    }
    state.room -= text.length;
    return text;
  }

  function reprObject(value, state, depth) {
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
    const parts = [];
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

  function reprContainer(value, state, depth) {
    if (isArray(value)) {
      const items = [];
      const length = value.length;
      for (let index = 0; index < length && index < 10_000; index++) {
        const property = readProperty(value, StringRef(index));
        push(items, { key: undefined, value: property.ok ? property.value : undefined });
        if (items.length * 2 > state.room) break;
      }
      const text = reprItems(items, state, depth, "[", "]");
      return items.length < length && !apply(regexpTest, /…\]$/, [text]) ? `${slice(text, 0, text.length - 1)}, …]` : text;
    }
    const mapSize = tryMapSize(value);
    if (mapSize >= 0) {
      const items = [];
      apply(mapForEach, value, [
        (item, key) => {
          if (items.length * 4 <= state.room) push(items, { key: `${reprValue(key, { room: 40, active: state.active }, depth + 1)} => `, value: item });
        },
      ]);
      return reprItems(items, state, depth, `Map(${mapSize}) {`, "}");
    }
    const setSize = trySetSize(value);
    if (setSize >= 0) {
      const items = [];
      apply(setForEach, value, [
        (item) => {
          if (items.length * 2 <= state.room) push(items, { key: undefined, value: item });
        },
      ]);
      return reprItems(items, state, depth, `Set(${setSize}) {`, "}");
    }
    const time = tryDateTime(value);
    if (time !== undefined) {
      return isNaN(time) ? "Invalid Date" : `Date(${apply(dateToISOString, value, [])})`;
    }
    const typedName = typedArrayName(value);
    if (typedName !== undefined) {
      const items = [];
      const length = apply(typedArrayLengthGetter, value, []);
      for (let index = 0; index < length && items.length * 2 <= state.room; index++) push(items, { key: undefined, value: value[index] });
      return reprItems(items, state, depth, `${typedName}(${length}) [`, "]");
    }
    if (isError(value)) {
      const name = readProperty(value, "name");
      const message = readProperty(value, "message");
      return `${name.ok ? safeString(name.value) : constructorName(value)}: ${message.ok ? safeString(message.value) : ""}`;
    }
    if (value instanceof PromiseRef) return "Promise {…}";
    const items = [];
    const keys = ownData(value);
    for (let index = 0; index < keys.length && items.length * 3 <= state.room; index++) {
      const key = keys[index];
      const property = readProperty(value, key);
      push(items, { key: `${isIdentifier(key) ? key : quote(key)}: `, value: property.ok ? property.value : property.getter ? "[Getter]" : undefined });
    }
    const name = isPlainObject(value) ? "" : `${constructorName(value)} `;
    return reprItems(items, state, depth, `${name}{`, "}");
  }

  // ---------------------------------------------------------------------------
  // Values as the worker compares them: canonical JSON text. The tags follow
  // the Python harness (values.py) where the types agree.
  const CANONICAL_LIMIT = 4_000_000;

  function canonical(value) {
    const state = { size: 0, active: [] };
    try {
      return canonicalValue(value, state, 0);
    } catch (error) {
      if (error === canonicalTooLarge) return '{"$opaque":"the value is too large to compare"}';
      return `{"$opaque":${quote(`the value could not be read: ${describeThrown(error).message}`)}}`;
    }
  }
  const canonicalTooLarge = freeze(create(null));

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
        text = quote(value);
        break;
      case "symbol":
      case "function":
        text = `{"$opaque":${quote(repr(value, 200))}}`;
        break;
      default:
        if (value === null) text = "null";
        else {
          if (depth > 64) return '{"$deep":true}';
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

  function canonicalPairs(pairs) {
    return `{"$dict":[${join(pairs, ",")}]}`;
  }

  function canonicalObject(value, state, depth) {
    if (isArray(value)) {
      const parts = [];
      const length = value.length;
      for (let index = 0; index < length; index++) {
        const property = readProperty(value, StringRef(index));
        push(parts, canonicalValue(property.ok ? property.value : undefined, state, depth + 1));
      }
      return `[${join(parts, ",")}]`;
    }
    if (tryMapSize(value) >= 0) {
      const pairs = [];
      apply(mapForEach, value, [(item, key) => push(pairs, `[${canonicalValue(key, state, depth + 1)},${canonicalValue(item, state, depth + 1)}]`)]);
      return canonicalPairs(pairs);
    }
    if (trySetSize(value) >= 0) {
      const items = [];
      apply(setForEach, value, [(item) => push(items, canonicalValue(item, state, depth + 1))]);
      return `{"$set":[${join(items, ",")}]}`;
    }
    const time = tryDateTime(value);
    if (time !== undefined) return `{"$date":${isNaN(time) ? "null" : StringRef(time)}}`;
    if (typedArrayName(value) !== undefined) {
      const parts = [];
      const length = apply(typedArrayLengthGetter, value, []);
      for (let index = 0; index < length; index++) push(parts, canonicalValue(value[index], state, depth + 1));
      return `[${join(parts, ",")}]`;
    }
    if (value instanceof PromiseRef) return '{"$opaque":"a Promise (the test awaits returned promises; this one was nested in the value)"}';
    const pairs = [];
    const keys = ownData(value);
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index];
      const property = readProperty(value, key);
      if (!property.ok) continue;
      push(pairs, `[${quote(key)},${canonicalValue(property.value, state, depth + 1)}]`);
    }
    if (isPlainObject(value)) return canonicalPairs(pairs);
    return `{"$obj":${quote(constructorName(value))},"attrs":${canonicalPairs(pairs)}}`;
  }

  // ---------------------------------------------------------------------------
  // Errors: type, message, line in the program, and the program's and test's frames.
  const framePattern = /\(?((?:program|test)\.js):(\d+):(\d+)\)?$/;
  const functionPattern = /^\s*at (?:async )?([^\s(]+) \(/;

  function describeThrown(error, lineOffsets) {
    if (!(typeof error === "object" && error !== null) || !isError(error)) {
      return { type: "Uncaught", message: `the program threw ${repr(error, 200)}`, line: null, traceback: undefined };
    }
    const name = readProperty(error, "name");
    let type = constructorName(error);
    if (type === "Error" && name.ok && typeof name.value === "string" && name.value !== "Error") type = name.value;
    const message = readProperty(error, "message");
    let stack = "";
    try {
      const own = getOwnPropertyDescriptor(error, "stack");
      stack = own !== undefined && typeof own.value === "string" ? own.value : "";
    } catch {
      stack = "";
    }
    const frames = [];
    let line = null;
    const lines = apply(stringSplit, stack, ["\n"]);
    for (let index = 1; index < lines.length; index++) {
      const match = apply(regexpExec, framePattern, [lines[index]]);
      if (match === null) continue;
      const file = match[1];
      let lineNumber = NumberRef(match[2]);
      if (file === "test.js" && lineOffsets !== undefined) lineNumber -= lineOffsets.test;
      if (file === "program.js" && line === null) line = lineNumber;
      const functionMatch = apply(regexpExec, functionPattern, [lines[index]]);
      push(frames, { file: file === "program.js" ? "program" : "test", line: lineNumber, name: functionMatch === null ? "<anonymous>" : functionMatch[1] });
    }
    return {
      type,
      message: message.ok ? slice(safeString(message.value), 0, 2000) : "",
      line,
      frames,
    };
  }

  function errorText(described) {
    let traceback;
    if (described.frames !== undefined && described.frames.length > 0) {
      const parts = ["Traceback (most recent call first):"];
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
    stdout: [],
    stderr: [],
    outputBytes: 0,
    outputLimit: 65_536,
    truncated: false,
    stdin: "",
    stdinConsumed: false,
    exitCode: null,
    reprLimit: 80,
    testLines: 0,
    testSource: [],
  };

  // Thrown (and recorded) when the program exceeds its output or calls
  // process.exit: a program that catches it is still stopped, because the
  // flag on `test` decides the outcome, not whether the throw got through.
  class OutputLimitSignal {}
  class ExitSignal {}
  freeze(OutputLimitSignal.prototype);
  freeze(ExitSignal.prototype);

  function write(stream, text) {
    if (test.truncated) throw new OutputLimitSignal();
    const bytes = utf8Length(text);
    if (test.outputBytes + bytes > test.outputLimit) {
      const room = test.outputLimit - test.outputBytes;
      if (room > 0) push(stream, slice(text, 0, room));
      test.outputBytes = test.outputLimit;
      test.truncated = true;
      throw new OutputLimitSignal();
    }
    test.outputBytes += bytes;
    push(stream, text);
  }

  // ---------------------------------------------------------------------------
  // Node-like printing for console.log (one line per call).
  function inspect(value, depth, nested) {
    switch (typeof value) {
      case "string":
        return nested ? `'${apply(stringReplace, value, [/'/g, "\\'"])}'` : value;
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
    if (isArray(value)) {
      if (value.length === 0) return "[]";
      const parts = [];
      for (let index = 0; index < value.length && index < 100; index++) push(parts, inspect(value[index], depth + 1, true));
      if (value.length > 100) push(parts, `... ${value.length - 100} more items`);
      return `[ ${join(parts, ", ")} ]`;
    }
    if (tryMapSize(value) >= 0) {
      const parts = [];
      apply(mapForEach, value, [(item, key) => push(parts, `${inspect(key, depth + 1, true)} => ${inspect(item, depth + 1, true)}`)]);
      return parts.length === 0 ? `Map(0) {}` : `Map(${parts.length}) { ${join(parts, ", ")} }`;
    }
    if (trySetSize(value) >= 0) {
      const parts = [];
      apply(setForEach, value, [(item) => push(parts, inspect(item, depth + 1, true))]);
      return parts.length === 0 ? `Set(0) {}` : `Set(${parts.length}) { ${join(parts, ", ")} }`;
    }
    if (isError(value)) {
      const described = describeThrown(value);
      return `${described.type}: ${described.message}`;
    }
    if (tryDateTime(value) !== undefined) return repr(value, 200);
    const keys = ownData(value);
    const prefix = isPlainObject(value) ? "" : `${constructorName(value)} `;
    if (keys.length === 0) return `${prefix}{}`;
    const parts = [];
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index];
      const property = readProperty(value, key);
      push(parts, `${isIdentifier(key) ? key : `'${key}'`}: ${property.ok ? inspect(property.value, depth + 1, true) : "[Getter]"}`);
    }
    return `${prefix}{ ${join(parts, ", ")} }`;
  }

  function format(args) {
    let first = args.length > 0 ? args[0] : undefined;
    let start = 0;
    const parts = [];
    if (typeof first === "string" && apply(stringIndexOf, first, ["%"]) >= 0 && args.length > 1) {
      let next = 1;
      first = apply(stringReplace, first, [
        /%[sdifjoO%]/g,
        (token) => {
          if (token === "%%") return "%";
          if (next >= args.length) return token;
          const value = args[next++];
          if (token === "%s") return typeof value === "string" ? value : inspect(value, 1, false);
          if (token === "%d" || token === "%i") return typeof value === "bigint" ? `${apply(bigintToString, value, [])}n` : numberText(token === "%i" ? mathFloor(NumberRef(value)) : NumberRef(value));
          if (token === "%f") return numberText(NumberRef(value));
          if (token === "%j") {
            try {
              return StringRef(globalObject.JSON.stringify(value));
            } catch {
              return "[Circular]";
            }
          }
          return inspect(value, 0, true);
        },
      ]);
      push(parts, first);
      start = next;
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
    apply(mapSet, timers, [id, { id, due: virtualNow + wait, callback, args, repeat: repeat ? Math.max(1, wait) : 0 }]);
    return id;
  }
  function clearTimer(id) {
    apply(mapDelete, timers, [typeof id === "object" && id !== null ? id.id : id]);
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
  const stdinListeners = { data: [], end: [] };
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
    [Symbol.asyncIterator]() {
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
    const error = new ErrorRef(`ENOENT: the sandbox has no file system (only standard input, fs.readFileSync(0)), open '${safeString(pathOrDescriptor)}'`);
    error.code = "ENOENT";
    throw error;
  }

  function stdinLines() {
    const lines = apply(stringSplit, test.stdin, ["\n"]);
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.length -= 1;
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index];
      if (line.length > 0 && apply(stringCharCodeAt, line, [line.length - 1]) === 13) lines[index] = slice(line, 0, line.length - 1);
    }
    return lines;
  }

  function createInterface() {
    const listeners = { line: [], close: [] };
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
      [Symbol.asyncIterator]() {
        const lines = stdinLines();
        test.stdinConsumed = true;
        let index = 0;
        return { next: async () => (index < lines.length ? { done: false, value: lines[index++] } : { done: true, value: undefined }) };
      },
    };
    return lineReader;
  }

  // ---------------------------------------------------------------------------
  // The assertion helper (Node's assert/strict, in part).
  class AssertionError extends ErrorRef {
    constructor(message, details) {
      super(message);
      defineProperty(this, "name", { value: "AssertionError", enumerable: false });
      defineProperty(this, "tracefixAssertion", { value: details, enumerable: false });
    }
  }
  freeze(AssertionError.prototype);
  freeze(AssertionError);

  function sameValue(left, right) {
    return left === right || (left !== left && right !== right);
  }
  function deepSame(left, right) {
    if (sameValue(left, right)) return true;
    return canonical(left) === canonical(right);
  }
  function fail(operator, actual, expected, message, hasExpected) {
    const left = repr(actual, 400);
    const right = hasExpected ? repr(expected, 400) : null;
    const text =
      message !== undefined
        ? isError(message)
          ? describeThrown(message).message
          : safeString(message)
        : hasExpected
          ? `Expected values to be ${operator === "deepEqual" ? "deeply equal" : operator === "notEqual" || operator === "notDeepEqual" ? "different" : "strictly equal"}:\n${left} ${operator === "notEqual" || operator === "notDeepEqual" ? "==" : "!=="} ${right}`
          : `The expression evaluated to a falsy value: ${left}`;
    throw new AssertionError(text, { operator, left, right });
  }

  function matchesExpectation(error, expected) {
    if (expected === undefined) return true;
    if (typeof expected === "function") {
      if (expected.prototype !== undefined && error instanceof expected) return true;
      if (isError(expected.prototype)) return false;
      return apply(expected, undefined, [error]) === true;
    }
    const message = isError(error) ? describeThrown(error).message : safeString(error);
    if (expected instanceof RegExp) return apply(regexpTest, expected, [message]);
    if (typeof expected === "string") return message === expected;
    if (typeof expected === "object" && expected !== null) {
      const keys = ownData(expected);
      for (let index = 0; index < keys.length; index++) {
        const key = keys[index];
        const wanted = expected[key];
        const actual = error === null || error === undefined ? undefined : error[key];
        if (wanted instanceof RegExp ? !apply(regexpTest, wanted, [safeString(actual)]) : !deepSame(actual, wanted)) return false;
      }
      return true;
    }
    return false;
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
    if (!deepSame(actual, expected)) fail("deepEqual", actual, expected, message, true);
  };
  assert.deepStrictEqual = assert.deepEqual;
  assert.notDeepEqual = (actual, expected, message) => {
    if (deepSame(actual, expected)) fail("notDeepEqual", actual, expected, message, true);
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
      if (error instanceof ExitSignal || error instanceof OutputLimitSignal) throw error;
      threw = true;
      thrown = error;
    }
    if (!threw) fail("throws", "no exception", undefined, message ?? "Missing expected exception.", false);
    if (!matchesExpectation(thrown, expected)) {
      throw new AssertionError(message ?? `The thrown error did not match: ${repr(thrown, 200)}`, { operator: "throws", left: repr(thrown, 400), right: repr(expected, 400) });
    }
  };
  assert.doesNotThrow = (block, message) => {
    try {
      block();
    } catch (error) {
      if (error instanceof ExitSignal || error instanceof OutputLimitSignal) throw error;
      fail("doesNotThrow", error, undefined, message ?? `Got unwanted exception: ${repr(error, 200)}`, false);
    }
  };
  assert.rejects = async (promiseOrFunction, expected, message) => {
    let threw = false;
    let thrown;
    try {
      await (typeof promiseOrFunction === "function" ? promiseOrFunction() : promiseOrFunction);
    } catch (error) {
      if (error instanceof ExitSignal || error instanceof OutputLimitSignal) throw error;
      threw = true;
      thrown = error;
    }
    if (!threw) fail("rejects", "no rejection", undefined, message ?? "Missing expected rejection.", false);
    if (!matchesExpectation(thrown, expected)) throw new AssertionError(message ?? `The rejection did not match: ${repr(thrown, 200)}`, { operator: "rejects", left: repr(thrown, 400), right: repr(expected, 400) });
  };
  assert.fail = (message) => {
    throw new AssertionError(message === undefined ? "Failed" : safeString(message), { operator: "fail", left: "fail()", right: null });
  };
  assert.match = (text, pattern, message) => {
    if (!apply(regexpTest, pattern, [text])) fail("match", text, pattern, message, true);
  };
  assert.AssertionError = AssertionError;
  assert.strict = assert;
  freeze(assert);

  // ---------------------------------------------------------------------------
  // The program's globals.
  const moduleRecord = { exports: {} };
  const utilModule = freeze({ inspect: (value) => inspect(value, 0, true), format: (...args) => format(args) });
  function requireModule(name) {
    const specifier = typeof name === "string" && apply(stringIndexOf, name, ["node:"]) === 0 ? slice(name, 5) : name;
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
        const error = new ErrorRef(`Cannot find module '${safeString(name)}' (the sandbox provides assert, fs for standard input, readline and util)`);
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
      test.exitCode = code === undefined ? 0 : code;
      throw new ExitSignal();
    },
    nextTick(callback, ...args) {
      queueTask(() => apply(callback, undefined, args));
    },
    hrtime: freeze({ bigint: () => BigInt(mathFloor(virtualNow * 1e6)) }),
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
    defineProperty(globalObject, names[index], { value: programGlobals[names[index]], writable: true, configurable: true, enumerable: false });
  }
  // `assert` cannot be replaced on the global object (a program's own
  // top-level `let assert` can shadow it; tests get the helper as a parameter).
  defineProperty(globalObject, "assert", { value: assert, writable: true, configurable: true, enumerable: false });

  // ---------------------------------------------------------------------------
  // The trace recorder. The instrumented program calls it as
  //   const f = T.c(id, name, line, () => ({params}))   entering a function
  //   T.s(f, site, line, () => ({names}))              before each statement
  //   return T.r(f, value)                             at a return
  //   T.x(f, error) / T.o(f)                           in the wrapping catch / finally
  // Events follow the Python harness: a line event is the *completed* line
  // with the state after it, settled when the frame's next site (or its exit) runs.
  const recorder = {
    on: false,
    recording: false,
    eventCount: 0,
    lineCount: 0,
    depth: 0,
    head: [],
    headCapacity: 0,
    tail: [],
    tailCapacity: 0,
    tailStart: 0,
    mode: "head",
    full: false,
    frames: [],
  };

  function snapshot(getter) {
    const state = create(null);
    if (getter === undefined) return state;
    let values;
    try {
      values = getter();
    } catch {
      return state;
    }
    const keys = objectKeys(values);
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index];
      const value = values[key];
      if (typeof value === "function") continue;
      state[key] = repr(value, test.reprLimit);
    }
    return state;
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
        const kept = [];
        for (let index = recorder.tail.length - recorder.tailCapacity; index < recorder.tail.length; index++) push(kept, recorder.tail[index]);
        recorder.tail = kept;
      }
    } else if (recorder.mode === "from") push(recorder.tail, event);
    else push(recorder.head, event);
  }
  function settle(frame, getter) {
    const event = frame.pending;
    if (event === null) return;
    frame.pending = null;
    // The state after the line: the names its own site saw, read through its
    // own closure (a loop variable keeps this iteration's value, even when the
    // next site already sees the next iteration's), then the names only the
    // next site sees (those the line itself declared).
    const current = snapshot(frame.getter);
    if (getter !== undefined && getter !== frame.getter) {
      const later = snapshot(getter);
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
  function frameFor(name, line, getter) {
    return { name, line, depth: recorder.depth, pending: null, previous: create(null), getter, lastSite: -1, lastLine: -1 };
  }

  const traceApi = freeze({
    c(name, line, getter) {
      recorder.depth += 1;
      const frame = frameFor(name, line, getter);
      if (!recorder.on) return frame;
      recorder.eventCount += 1;
      if (shouldRecord()) {
        const current = snapshot(getter);
        frame.previous = current;
        emit({ step: 0, event: "call", line, function: name, depth: frame.depth, locals: current, changed: objectKeys(current) });
      }
      return frame;
    },
    s(frame, site, line, getter) {
      if (!recorder.on) return;
      // Statements flowing forward on one line are one line event (a loop
      // written on one line still gives one event per iteration: its sites
      // repeat with a lower number). Decided the same way whether or not
      // events are being kept, so counts match between a run and its replay.
      if (line === frame.lastLine && site > frame.lastSite) {
        frame.lastSite = site;
        frame.getter = getter;
        return;
      }
      if (frame.pending !== null) settle(frame, getter);
      frame.lastSite = site;
      frame.lastLine = line;
      frame.getter = getter;
      recorder.eventCount += 1;
      recorder.lineCount += 1;
      if (shouldRecord()) {
        const event = { step: 0, event: "line", line, function: frame.name, depth: frame.depth };
        frame.pending = event;
        emit(event);
      }
    },
    r(frame, value) {
      if (!recorder.on) return value;
      if (frame.pending !== null) settle(frame, undefined);
      recorder.eventCount += 1;
      frame.returned = true;
      if (shouldRecord()) {
        emit({ step: 0, event: "return", line: frame.lastLine > 0 ? frame.lastLine : frame.line, function: frame.name, depth: frame.depth, value: repr(value, test.reprLimit) });
      }
      return value;
    },
    x(frame, error) {
      frame.threw = true;
      if (!recorder.on) return;
      if (error instanceof ExitSignal || error instanceof OutputLimitSignal) return;
      if (frame.pending !== null) settle(frame, undefined);
      recorder.eventCount += 1;
      if (shouldRecord()) {
        const described = describeThrown(error);
        emit({
          step: 0,
          event: "exception",
          line: frame.lastLine > 0 ? frame.lastLine : frame.line,
          function: frame.name,
          depth: frame.depth,
          value: described.message === "" ? described.type : `${described.type}: ${described.message}`,
        });
      }
    },
    o(frame) {
      recorder.depth -= 1;
      // A function that ends without `return` returns undefined.
      if (!recorder.on || frame.returned === true || frame.threw === true) return;
      if (frame.pending !== null) settle(frame, undefined);
      recorder.eventCount += 1;
      if (shouldRecord()) {
        emit({ step: 0, event: "return", line: frame.lastLine > 0 ? frame.lastLine : frame.line, function: frame.name, depth: frame.depth, value: "undefined" });
      }
    },
    m() {
      // The program's top level as a frame of its own (depth 1, like Python's module frame).
      recorder.depth += 1;
      const frame = frameFor("<module>", 1, undefined);
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

  // ---------------------------------------------------------------------------
  // The driver the worker calls.
  const outcome = { kind: "none", value: undefined, error: undefined, settled: false, promise: false };

  function resetOutcome() {
    outcome.kind = "none";
    outcome.value = undefined;
    outcome.error = undefined;
    outcome.settled = false;
    outcome.promise = false;
  }

  function isSignal(error) {
    return error instanceof ExitSignal || error instanceof OutputLimitSignal;
  }

  function settleWith(kind, payload) {
    if (outcome.settled) return;
    outcome.settled = true;
    outcome.kind = kind;
    if (kind === "returned") outcome.value = payload;
    else outcome.error = payload;
  }

  /** Accept a returned value: a promise (native or not) is awaited. */
  function acceptResult(value) {
    let then;
    try {
      then = value !== null && (typeof value === "object" || typeof value === "function") ? value.then : undefined;
    } catch (error) {
      settleWith("error", error);
      return;
    }
    if (typeof then !== "function") {
      settleWith("returned", value);
      return;
    }
    outcome.promise = true;
    try {
      apply(value instanceof PromiseRef ? promiseThen : then, value, [(result) => settleWith("returned", result), (error) => settleWith("error", error)]);
    } catch (error) {
      settleWith("error", error);
    }
  }

  function guarded(action) {
    try {
      action();
    } catch (error) {
      settleWith("error", error);
    }
  }

  const batch = { state: "more" };
  const driver = {
    /** Called once per context: where the recorder lives and the limits. */
    configure(configText) {
      const config = parseJson(configText);
      test.reprLimit = config.reprLimit;
      test.outputLimit = config.outputBytes;
      if (typeof config.tracerName === "string" && isIdentifier(config.tracerName)) {
        defineProperty(globalObject, config.tracerName, { value: traceApi, writable: false, configurable: false, enumerable: false });
      }
    },
    /** Resets per-test state; `trace` switches recording on for this test. */
    beginTest(configText) {
      const config = parseJson(configText);
      test.stdout = [];
      test.stderr = [];
      test.outputBytes = 0;
      test.truncated = false;
      test.stdin = typeof config.stdin === "string" ? config.stdin : "";
      test.stdinConsumed = false;
      test.exitCode = null;
      test.testLines = config.testLines ?? 0;
      randomState = config.seed ?? 1;
      virtualNow = 0;
      timers.clear();
      stdinScheduled = false;
      stdinListeners.data = [];
      stdinListeners.end = [];
      batch.state = "more";
      resetOutcome();
      const trace = config.trace;
      recorder.eventCount = 0;
      recorder.lineCount = 0;
      recorder.depth = 0;
      recorder.head = [];
      recorder.tail = [];
      recorder.on = trace !== undefined && trace !== null;
      if (recorder.on) {
        recorder.mode = trace.mode;
        recorder.headCapacity = trace.head ?? 0;
        recorder.tailCapacity = trace.tail ?? 0;
        recorder.tailStart = trace.from ?? 0;
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
        acceptResult(apply(entry, undefined, args));
      });
    },
    /** An assert test: the test code compiled as a function of (assert, require). */
    runTestFunction(testFunction) {
      guarded(() => acceptResult(apply(testFunction, undefined, [assert, requireModule])));
    },
    /** A stdio test's program finished its top level (or threw there). */
    programFinished(threw, errorText) {
      if (threw) settleWith("host-error", errorText);
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
        const own = readProperty(exported, name);
        return own.ok ? own.value : exported;
      }
      if (exported !== null && typeof exported === "object") {
        const own = readProperty(exported, name);
        if (own.ok) return own.value;
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
    /** The test's result as JSON text (read by the worker). */
    finish(kind) {
      let result;
      if (test.truncated) result = '"outcome":"output"';
      else if (test.exitCode !== null) result = `"outcome":"exit","exit_code":${quote(safeString(test.exitCode))}`;
      else if (!outcome.settled) result = `"outcome":"${kind === "stdio" ? "returned" : "pending"}"`;
      else if (outcome.kind === "returned") {
        result = '"outcome":"returned"';
        if (kind === "call") result += `,"actual":${canonical(outcome.value)},"actual_repr":${quote(repr(outcome.value, 2000))}`;
      } else if (outcome.kind === "host-error") result = `"outcome":"error","error":${outcome.error}`;
      else {
        const described = describeThrown(outcome.error, { test: test.testLines });
        if (outcome.error instanceof AssertionError) {
          const details = outcome.error.tracefixAssertion;
          // The test's line that made the failing call (none when the program itself asserted).
          let sourceLine = 0;
          for (let index = 0; index < described.frames.length; index++) if (described.frames[index].file === "test") sourceLine = described.frames[index].line;
          described.assertion = { operator: details.operator, left: details.left, right: details.right, source: driver.testSourceLine(sourceLine) };
        }
        result = `"outcome":"error","error":${errorText(described)}`;
      }
      const stdout = join(test.stdout, "");
      const stderr = join(test.stderr, "");
      let text = `{${result},"stdout":${quote(stdout)},"stderr":${quote(stderr)},"truncated":${test.truncated ? "true" : "false"}`;
      if (recorder.on) {
        // Settle the frames still open (a test that timed out or ended in a callback).
        const events = [];
        for (let index = 0; index < recorder.head.length; index++) push(events, eventText(recorder.head[index]));
        const tail = recorder.tail;
        const first = recorder.mode === "ring" && tail.length > recorder.tailCapacity ? tail.length - recorder.tailCapacity : 0;
        for (let index = first; index < tail.length; index++) push(events, eventText(tail[index]));
        text += `,"trace":{"events":[${join(events, ",")}],"event_count":${StringRef(recorder.eventCount)},"line_count":${StringRef(recorder.lineCount)}}`;
      }
      return `${text}}`;
    },
    testSourceLine(line) {
      const lines = test.testSource;
      return line >= 1 && line <= lines.length ? apply(stringReplace, lines[line - 1], [/^\s+|\s+$/g, ""]) : "";
    },
    setTestSource(source) {
      test.testSource = apply(stringSplit, source, ["\n"]);
    },
    /** How an expected JSON value is shown (the same rendering as the program's values). */
    expectedFromJson(text) {
      return repr(parseJson(text), 2000);
    },
    /** The value of an `output` expression, canonical and shown. */
    expectedValue(value) {
      return `{"canonical":${canonical(value)},"repr":${quote(repr(value, 2000))}}`;
    },
    /** A stdio program's top level threw (described by the worker): the module frame's exception event. */
    moduleThrew(value) {
      const frame = recorder.moduleFrame;
      if (!recorder.on || frame === undefined) return;
      frame.threw = true;
      if (frame.pending !== null) settle(frame, undefined);
      recorder.eventCount += 1;
      if (shouldRecord()) emit({ step: 0, event: "exception", line: frame.lastLine > 0 ? frame.lastLine : 1, function: "<module>", depth: frame.depth, value });
    },
    /** Settle what is still open at the end of a test (a module frame, a frame cut by a timeout). */
    settleOpen() {
      const frame = recorder.moduleFrame;
      if (recorder.on && frame !== undefined && frame.pending !== null) settle(frame, undefined);
    },
  };
  return freeze(driver);
})();
