/*
 * Source transforms for JavaScript candidates, done with acorn in the worker
 * (never inside the isolate). Both only insert or replace text within a line
 * and keep every newline, so line numbers in errors and traces are the
 * program's own.
 *
 * toScript(source): a program written as an ES module (import/export) becomes
 *   a script: `export` is dropped, `export default x` assigns
 *   module.exports.default, `import` becomes require().
 *
 * instrument(source, prefix): inserts the trace recorder's calls
 *   (runtime.js, "The trace recorder"):
 *   - before every statement, `T.s(frame, site, line, () => ({names}))`,
 *     where `names` are the frame's own variables declared textually before
 *     the statement (parameters, var, let/const of enclosing blocks): those
 *     are initialised whenever control reaches the statement, so reading them
 *     never hits the temporal dead zone (let/const directly inside a switch
 *     case are left out for that reason);
 *   - loop headers: the `while`/`for` test gets a site (one line event per
 *     iteration, as Python shows the `for` line); for-of/for-in bodies start
 *     with a site on the header's line;
 *   - function bodies: `const F = T.c(name, line, params); try { body }
 *     catch (e) { T.x(F, e); throw e } finally { T.o(F) }`; expression-bodied
 *     arrows get a block body; `return e` becomes `return T.r(F, (e))`.
 */
import * as acorn from "acorn";

const PARSE_OPTIONS = { ecmaVersion: "latest", allowHashBang: true, locations: true };

export class ProgramSyntaxError extends Error {
  constructor(message, line, column) {
    super(message);
    this.name = "SyntaxError";
    this.line = line;
    this.column = column;
  }
}

/** Parse as a script, else as a module; throws ProgramSyntaxError with the script parse's message. */
export function parseProgram(source) {
  try {
    return { ast: acorn.parse(source, { ...PARSE_OPTIONS, sourceType: "script" }), module: false };
  } catch (scriptError) {
    try {
      const ast = acorn.parse(source, { ...PARSE_OPTIONS, sourceType: "module" });
      if (ast.body.some((node) => node.type.startsWith("Import") || node.type.startsWith("Export"))) return { ast, module: true };
    } catch {
      /* the script error is the one to report */
    }
    const location = scriptError.loc ?? { line: null, column: null };
    throw new ProgramSyntaxError(String(scriptError.message).replace(/ \(\d+:\d+\)$/, ""), location.line, location.column);
  }
}

/** Applies [position, text] insertions and [start, end, text] replacements in one pass. */
function applyEdits(source, edits) {
  const ordered = edits
    .map((edit, order) => ({ ...edit, order }))
    .sort((left, right) => left.start - right.start || left.order - right.order);
  let output = "";
  let cursor = 0;
  for (const edit of ordered) {
    if (edit.start < cursor) continue;
    output += source.slice(cursor, edit.start) + edit.text;
    cursor = edit.end ?? edit.start;
  }
  return output + source.slice(cursor);
}

function keepNewlines(source, start, end, text) {
  const newlines = source.slice(start, end).split("\n").length - 1;
  return text + "\n".repeat(newlines);
}

function patternNames(pattern, names = []) {
  if (pattern === null || pattern === undefined) return names;
  switch (pattern.type) {
    case "Identifier":
      names.push(pattern.name);
      break;
    case "ObjectPattern":
      for (const property of pattern.properties) patternNames(property.type === "RestElement" ? property.argument : property.value, names);
      break;
    case "ArrayPattern":
      for (const element of pattern.elements) patternNames(element, names);
      break;
    case "RestElement":
      patternNames(pattern.argument, names);
      break;
    case "AssignmentPattern":
      patternNames(pattern.left, names);
      break;
    default:
      break;
  }
  return names;
}

/** An ES module as a script (see the header). */
export function toScript(source) {
  const { ast, module } = parseProgram(source);
  if (!module) return source;
  const edits = [];
  for (const node of ast.body) {
    if (node.type === "ImportDeclaration") {
      const from = JSON.stringify(node.source.value);
      const parts = [];
      const named = [];
      for (const specifier of node.specifiers) {
        if (specifier.type === "ImportDefaultSpecifier" || specifier.type === "ImportNamespaceSpecifier") parts.push(`const ${specifier.local.name} = require(${from});`);
        else {
          const imported = specifier.imported.type === "Identifier" ? specifier.imported.name : String(specifier.imported.value);
          named.push(imported === specifier.local.name ? imported : `${JSON.stringify(imported)}: ${specifier.local.name}`);
        }
      }
      if (named.length > 0) parts.push(`const { ${named.join(", ")} } = require(${from});`);
      if (parts.length === 0) parts.push(`require(${from});`);
      edits.push({ start: node.start, end: node.end, text: keepNewlines(source, node.start, node.end, parts.join(" ")) });
    } else if (node.type === "ExportNamedDeclaration") {
      if (node.declaration !== null && node.declaration !== undefined) {
        edits.push({ start: node.start, end: node.declaration.start, text: "" });
        const declared = node.declaration.type === "VariableDeclaration" ? node.declaration.declarations.flatMap((item) => patternNames(item.id)) : [node.declaration.id.name];
        edits.push({ start: node.end, text: ` Object.assign(module.exports, { ${declared.join(", ")} });` });
      } else if (node.source === null || node.source === undefined) {
        const pairs = node.specifiers.map((specifier) => {
          const exported = specifier.exported.type === "Identifier" ? specifier.exported.name : String(specifier.exported.value);
          return `${JSON.stringify(exported)}: ${specifier.local.name}`;
        });
        edits.push({ start: node.start, end: node.end, text: keepNewlines(source, node.start, node.end, `Object.assign(module.exports, { ${pairs.join(", ")} });`) });
      } else {
        edits.push({ start: node.start, end: node.end, text: keepNewlines(source, node.start, node.end, `Object.assign(module.exports, require(${JSON.stringify(node.source.value)}));`) });
      }
    } else if (node.type === "ExportDefaultDeclaration") {
      const declaration = node.declaration;
      const named = (declaration.type === "FunctionDeclaration" || declaration.type === "ClassDeclaration") && declaration.id !== null;
      if (named) {
        edits.push({ start: node.start, end: declaration.start, text: "" });
        edits.push({ start: node.end, text: ` module.exports.default = ${declaration.id.name};` });
      } else {
        edits.push({ start: node.start, end: declaration.start, text: "module.exports.default = " });
        if (declaration.type === "FunctionDeclaration" || declaration.type === "ClassDeclaration") edits.push({ start: node.end, text: ";" });
      }
    } else if (node.type === "ExportAllDeclaration") {
      edits.push({ start: node.start, end: node.end, text: keepNewlines(source, node.start, node.end, `Object.assign(module.exports, require(${JSON.stringify(node.source.value)}));`) });
    }
  }
  return applyEdits(source, edits);
}

const SKIPPED_NAMES = new Set(["arguments", "eval"]);

/** Past its deadline or output bound the instrumenter stops: the run goes untraced and says why. */
export class InstrumentLimitError extends Error {
  constructor(message) {
    super(message);
    this.name = "InstrumentLimitError";
  }
}

/**
 * A scope whose names the trace shows: a function body (params, vars,
 * top-level let/const), a block with let/const of its own, a loop's head or
 * body, a catch clause. Ordinals number a function's names in the order the
 * source declares them, which is the order a line event lists them in.
 */
class Level {
  constructor(frame, parent, { showsThis = false, callShowsThis = false, inline = false } = {}) {
    this.frame = frame;
    this.parent = parent;
    this.parentCount = parent === null ? 0 : parent.names.length;
    this.names = [];
    this.ordinals = [];
    this.seen = new Set();
    this.showsThis = showsThis;
    this.callShowsThis = callShowsThis;
    /** A loop head's names are read by a reader written inline in the loop's test (one per iteration). */
    this.inline = inline;
    this.params = 0;
    this.index = -1;
    this.id = frame.levels.length;
    frame.levels.push(this);
  }

  add(name, ordinal) {
    if (SKIPPED_NAMES.has(name) || this.seen.has(name)) return;
    this.seen.add(name);
    this.names.push(name);
    this.ordinals.push(ordinal ?? this.frame.counter.next++);
  }

  /** A scope with nothing to show gets no reader; its sites read through the nearest scope that has one. */
  get real() {
    return this.names.length > 0 || this.showsThis;
  }
}

/** `base` followed by the first number that makes a name appearing nowhere in `source`. */
function unusedName(source, base) {
  for (let suffix = 0; ; suffix++) if (!source.includes(`${base}${suffix}`)) return `${base}${suffix}`;
}

/** Applies [position, text] insertions and [start, end, text] replacements in one pass, within `maxChars`. */
function applyBoundedEdits(source, edits, maxChars) {
  const ordered = edits
    .map((edit, order) => ({ ...edit, order }))
    .sort((left, right) => left.start - right.start || (left.priority ?? 0) - (right.priority ?? 0) || left.order - right.order);
  const parts = [];
  let length = 0;
  let cursor = 0;
  const add = (text) => {
    length += text.length;
    if (length > maxChars) throw new InstrumentLimitError(`the instrumented program would be over ${maxChars} characters`);
    parts.push(text);
  };
  for (const edit of ordered) {
    if (edit.start < cursor) continue;
    add(source.slice(cursor, edit.start));
    add(typeof edit.text === "function" ? edit.text() : edit.text);
    cursor = edit.end ?? edit.start;
  }
  add(source.slice(cursor));
  return parts.join("");
}

/**
 * Instruments a script (see the header). Returns the new source and the
 * site table the recorder needs (passed to it by the worker, out of the
 * program's reach). Linear in the program: each statement names only its
 * scope's reader and how many of that scope's names it sees, in the table.
 * `deadline` (performance.now() time) and `maxChars` bound its work; past
 * either it throws InstrumentLimitError.
 */
export function instrument(source, prefix, { deadline = Number.POSITIVE_INFINITY, maxChars = Number.POSITIVE_INFINITY } = {}) {
  const { ast } = parseProgram(source);
  const tracer = `${prefix}T`;
  const edits = [];
  const sites = [];
  const allLevels = [];
  let frameCounter = 0;
  let visited = 0;
  const insert = (position, text, priority = 0) => edits.push({ start: position, text, priority });
  // The readers' own parameters: short names the program never uses, so they shadow none of its names.
  const count = unusedName(source, "$n");
  const self = unusedName(source, "$t");

  function checkDeadline() {
    visited += 1;
    if ((visited & 1023) === 0 && performance.now() > deadline) throw new InstrumentLimitError("instrumenting the program took longer than its time limit");
  }

  function newFrame(frameName) {
    const frame = { frameName, counter: { next: 0 }, levels: allLevels };
    return frame;
  }

  /** The nearest scope at or above `level` that has a reader, and how many of its names a site sees there. */
  function resolved(level, count, varLevel, varCount) {
    let current = level;
    let visible = count;
    while (current !== null && !current.real) {
      visible = current.parent === varLevel ? varCount : current.parentCount;
      current = current.parent;
    }
    return { level: current, count: visible };
  }
  function readerName(level) {
    return `${prefix}r${level.id}`;
  }
  function readerText(level) {
    const parent = level.parent === null ? null : resolved(level.parent, level.parentCount, null, 0).level;
    const values = level.names.map((name, index) => `${count}>${index}?${name}:0`);
    return `(${count},${self})=>[${parent === null ? "null" : readerName(parent)},${level.showsThis ? `${self}?this:0` : "0"}${values.length > 0 ? "," : ""}${values.join(",")}]`;
  }
  /** `const R=(n,t)=>[…];` at the start of a scope that has names (empty otherwise), written once the walk knows. */
  function declareReader(level) {
    return () => (level.real && !level.inline ? `const ${readerName(level)}=${readerText(level)};` : "");
  }

  function siteCall(scope, line, level = scope.level) {
    const site = sites.length + 1;
    const entry = { line, level, count: level.names.length, varLevel: scope.varLevel, varCount: scope.varLevel.names.length };
    sites.push(entry);
    return () => {
      const target = resolved(entry.level, entry.count, entry.varLevel, entry.varCount).level;
      const reader = target === null ? "void 0" : target.inline ? readerText(target) : readerName(target);
      return `${tracer}.s(${scope.frameName},${site},${reader})`;
    };
  }

  function declaredNames(statement) {
    if (statement.type === "VariableDeclaration") return statement.declarations.flatMap((item) => patternNames(item.id));
    return [];
  }
  function declare(scope, kind, names) {
    for (const name of names) (kind === "var" ? scope.varLevel : scope.level).add(name);
  }
  function within(scope, level, action) {
    const saved = scope.level;
    scope.level = level;
    try {
      action();
    } finally {
      scope.level = saved;
    }
  }

  function statementList(statements, scope, { directives = false, switchCase = false } = {}) {
    let index = 0;
    if (directives) {
      while (index < statements.length && statements[index].type === "ExpressionStatement" && typeof statements[index].directive === "string") index += 1;
    }
    for (; index < statements.length; index++) {
      const statement = statements[index];
      if (statement.type !== "EmptyStatement") {
        const call = siteCall(scope, statement.loc.start.line);
        insert(statement.start, () => `${call()};`);
      }
      visit(statement, scope);
      // let/const directly in a switch case may be skipped over by a jump to a later case (TDZ).
      if (statement.kind === "var" || (statement.type === "VariableDeclaration" && !switchCase)) declare(scope, statement.kind, declaredNames(statement));
    }
  }

  /** A block with a scope of its own (`level`, or a new one), its reader first. */
  function block(node, scope, level = new Level(scope.frame, scope.level), header = undefined) {
    insert(node.start + 1, declareReader(level), -1);
    within(scope, level, () => {
      if (header !== undefined) {
        const call = header();
        insert(node.start + 1, () => `${call()};`);
      }
      statementList(node.body, scope);
    });
  }

  /** A statement in a body position that may not be a block: wrap it so a site (and a reader) can precede it. */
  function body(statement, scope, level = new Level(scope.frame, scope.level), header = undefined) {
    if (statement.type === "BlockStatement") {
      block(statement, scope, level, header);
      return;
    }
    within(scope, level, () => {
      const headerCall = header === undefined ? undefined : header();
      const call = statement.type === "EmptyStatement" ? undefined : siteCall(scope, statement.loc.start.line);
      const reader = declareReader(level);
      insert(statement.start, () => `{${reader()}${headerCall === undefined ? "" : `${headerCall()};`}${call === undefined ? "" : `${call()};`}`);
      visit(statement, scope);
    });
    insert(statement.end, "}");
  }

  function functionName(node, parent) {
    if (node.id) return node.id.name;
    if (parent === undefined) return "<anonymous>";
    if (parent.type === "VariableDeclarator" && parent.id.type === "Identifier") return parent.id.name;
    if ((parent.type === "Property" || parent.type === "MethodDefinition" || parent.type === "PropertyDefinition") && parent.key) {
      return parent.key.type === "Identifier" || parent.key.type === "PrivateIdentifier" ? parent.key.name : String(parent.key.value ?? "<computed>");
    }
    if (parent.type === "AssignmentExpression" && parent.left.type === "Identifier") return parent.left.name;
    if (parent.type === "AssignmentExpression" && parent.left.type === "MemberExpression" && parent.left.property.type === "Identifier") return parent.left.property.name;
    return "<anonymous>";
  }

  function visitFunction(node, parent) {
    frameCounter += 1;
    const frameName = `${prefix}f${frameCounter}`;
    const method = parent !== undefined && parent.type === "MethodDefinition" && !parent.static && node.type === "FunctionExpression";
    const frame = newFrame(frameName);
    // A derived constructor's `this` does not exist before super(): its call event shows the arguments only.
    const level = new Level(frame, null, { showsThis: method, callShowsThis: method && parent.kind !== "constructor" });
    for (const name of node.params.flatMap((param) => patternNames(param))) level.add(name);
    level.params = level.names.length;
    const scope = { frame, frameName, level, varLevel: level };
    const name = JSON.stringify(functionName(node, parent));
    const line = node.loc.start.line;
    for (const param of node.params) visit(param, scope);
    // The reader is declared inside the `try` block, where the body's own let/const live (the frame before it, for catch and finally).
    const reader = declareReader(level);
    const entry = () => `let ${frameName};try{${reader()}${frameName}=${tracer}.c(${name},${line},${level.real ? readerName(level) : "void 0"},${level.index});`;
    const exit = `}catch(${prefix}e){${tracer}.x(${frameName},${prefix}e);throw ${prefix}e}finally{${tracer}.o(${frameName})}`;
    if (node.body.type === "BlockStatement") {
      const statements = node.body.body;
      let position = node.body.start + 1;
      let index = 0;
      while (index < statements.length && statements[index].type === "ExpressionStatement" && typeof statements[index].directive === "string") {
        position = statements[index].end;
        index += 1;
      }
      insert(position, entry);
      statementList(statements, scope, { directives: true });
      insert(node.body.end - 1, exit);
      return;
    }
    // An expression body: `(a) => a + 1` becomes a block that returns it.
    const searchFrom = node.params.length > 0 ? node.params[node.params.length - 1].end : node.start;
    const arrow = source.indexOf("=>", searchFrom);
    const call = siteCall(scope, node.body.loc.start.line);
    insert(arrow + 2, () => `{${entry()}${call()};return ${tracer}.r(${frameName},(`);
    visit(node.body, scope);
    insert(node.end, `))${exit}}`);
  }

  function visitFor(node, scope) {
    const init = node.init;
    const lexical = init?.type === "VariableDeclaration" && init.kind !== "var";
    const head = lexical ? new Level(scope.frame, scope.level, { inline: true }) : scope.level;
    if (init) {
      within(scope, head, () => visit(init, scope, node));
      if (init.type === "VariableDeclaration") {
        if (lexical) for (const name of declaredNames(init)) head.add(name);
        else declare(scope, "var", declaredNames(init));
      }
    }
    within(scope, head, () => {
      if (node.test) {
        const call = siteCall(scope, node.test.loc.start.line);
        insert(node.test.start, () => `(${call()},`);
        visit(node.test, scope, node);
        insert(node.test.end, ")");
      }
      if (node.update) visit(node.update, scope, node);
    });
    // The body sees the head's names through a scope of its own (the head's bindings are per iteration).
    const level = new Level(scope.frame, scope.level);
    for (const [index, name] of head === scope.level ? [] : head.names.entries()) level.add(name, head.ordinals[index]);
    body(node.body, scope, level);
  }

  function visitForInOf(node, scope) {
    visit(node.right, scope, node);
    const level = new Level(scope.frame, scope.level);
    if (node.left.type === "VariableDeclaration") {
      if (node.left.kind === "var") declare(scope, "var", declaredNames(node.left));
      else for (const name of declaredNames(node.left)) level.add(name);
    }
    body(node.body, scope, level, () => siteCall(scope, node.loc.start.line));
  }

  function visitLoopTest(node, scope) {
    const call = siteCall(scope, node.test.loc.start.line);
    insert(node.test.start, () => `(${call()},`);
    visit(node.test, scope, node);
    insert(node.test.end, ")");
  }

  function visitTry(node, scope) {
    visit(node.block, scope, node);
    if (node.handler) {
      const level = new Level(scope.frame, scope.level);
      if (node.handler.param) for (const name of patternNames(node.handler.param)) level.add(name);
      block(node.handler.body, scope, level);
    }
    if (node.finalizer) visit(node.finalizer, scope, node);
  }

  function visitStaticBlock(node, scope) {
    // A class static block is a var scope of its own, inside the enclosing function's scopes.
    const level = new Level(scope.frame, scope.level);
    const saved = scope.varLevel;
    scope.varLevel = level;
    try {
      insert(source.indexOf("{", node.start) + 1, declareReader(level), -1);
      within(scope, level, () => statementList(node.body, scope));
    } finally {
      scope.varLevel = saved;
    }
  }

  function visit(node, scope, parent) {
    if (node === null || node === undefined || typeof node.type !== "string") return;
    checkDeadline();
    switch (node.type) {
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        visitFunction(node, parent);
        return;
      case "BlockStatement":
        block(node, scope);
        return;
      case "StaticBlock":
        visitStaticBlock(node, scope);
        return;
      case "IfStatement":
        visit(node.test, scope, node);
        body(node.consequent, scope);
        if (node.alternate) body(node.alternate, scope);
        return;
      case "ForStatement":
        visitFor(node, scope);
        return;
      case "ForInStatement":
      case "ForOfStatement":
        visitForInOf(node, scope);
        return;
      case "WhileStatement":
        visitLoopTest(node, scope);
        body(node.body, scope);
        return;
      case "DoWhileStatement":
        body(node.body, scope);
        visitLoopTest(node, scope);
        return;
      case "LabeledStatement":
        // `label: { site; loop }` would break `continue label`: descend instead.
        visit(node.body, scope, node);
        return;
      case "SwitchStatement":
        visit(node.discriminant, scope, node);
        for (const branch of node.cases) {
          if (branch.test) visit(branch.test, scope, branch);
          statementList(branch.consequent, scope, { switchCase: true });
        }
        return;
      case "TryStatement":
        visitTry(node, scope);
        return;
      case "ReturnStatement":
        if (node.argument) {
          insert(node.argument.start, `${tracer}.r(${scope.frameName},(`);
          visit(node.argument, scope, node);
          insert(node.argument.end, "))");
        } else {
          insert(node.start + "return".length, ` ${tracer}.r(${scope.frameName},undefined)`);
        }
        return;
      default:
        break;
    }
    for (const key of Object.keys(node)) {
      if (key === "loc" || key === "type" || key === "start" || key === "end") continue;
      const child = node[key];
      if (Array.isArray(child)) {
        for (const item of child) if (item !== null && typeof item === "object" && typeof item.type === "string") visit(item, scope, node);
      } else if (child !== null && typeof child === "object" && typeof child.type === "string") {
        visit(child, scope, node);
      }
    }
  }

  const moduleFrame = `${prefix}M`;
  const frame = newFrame(moduleFrame);
  const topLevel = new Level(frame, null);
  const topScope = { frame, frameName: moduleFrame, level: topLevel, varLevel: topLevel };
  const statements = ast.body;
  let position = 0;
  let index = 0;
  while (index < statements.length && statements[index].type === "ExpressionStatement" && typeof statements[index].directive === "string") {
    position = statements[index].end;
    index += 1;
  }
  if (source.startsWith("#!")) position = Math.max(position, source.indexOf("\n") >= 0 ? source.indexOf("\n") : source.length);
  insert(position, declareReader(topLevel), -1);
  insert(position, `const ${moduleFrame}=${tracer}.m();`);
  statementList(statements, topScope, { directives: true });
  // Only scopes with something to show get an index (and a reader).
  const levels = [];
  for (const level of allLevels) {
    if (!level.real) continue;
    level.index = levels.length;
    levels.push(level);
  }
  const code = applyBoundedEdits(source, edits, maxChars);
  return { code, sites: sites.length, table: siteTable(levels, sites) };
}

/** The recorder's view of the scopes and sites (runtime.js, "The trace recorder"). */
function siteTable(levels, sites) {
  const indexOf = (level) => (level === null ? -1 : level.index);
  const tableLevels = levels.map((level) => {
    let parent = level.parent;
    let parentCount = level.parentCount;
    while (parent !== null && !parent.real) {
      parentCount = parent.parentCount;
      parent = parent.parent;
    }
    return [level.names, level.ordinals, indexOf(parent), parentCount, level.showsThis ? 1 : 0, level.callShowsThis ? 1 : 0, level.params];
  });
  const flat = [];
  for (const entry of sites) {
    let level = entry.level;
    let count = entry.count;
    while (level !== null && !level.real) {
      count = level.parent === entry.varLevel ? entry.varCount : level.parentCount;
      level = level.parent;
    }
    flat.push(entry.line, indexOf(level), count, entry.varLevel.real ? entry.varLevel.index : -1, entry.varCount);
  }
  return { levels: tableLevels, sites: flat };
}
