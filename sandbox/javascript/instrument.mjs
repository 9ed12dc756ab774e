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

class FunctionScope {
  constructor(frameName, names, showsThis = false) {
    this.frameName = frameName;
    /** Methods show `this` (the object's state), as Python shows `self`. */
    this.showsThis = showsThis;
    /** var-declared names: they outlive the block that declares them. */
    this.vars = new Set();
    /** Visible names in declaration order: params, vars, block-scoped names (popped when their block ends). */
    this.names = [...names];
  }
}

/** Instruments a script (see the header). Returns the new source and the number of sites. */
export function instrument(source, prefix) {
  const { ast } = parseProgram(source);
  const tracer = `${prefix}T`;
  const edits = [];
  let site = 0;
  let frameCounter = 0;
  const insert = (position, text) => edits.push({ start: position, text });

  function getter(scope) {
    const unique = [...new Set(scope.names)].filter((name) => !SKIPPED_NAMES.has(name));
    if (scope.showsThis) unique.unshift('"this":this');
    return unique.length === 0 ? "undefined" : `()=>({${unique.join(",")}})`;
  }
  function siteCall(scope, line) {
    site += 1;
    return `${tracer}.s(${scope.frameName},${site},${line},${getter(scope)})`;
  }

  function declaredNames(statement) {
    if (statement.type === "VariableDeclaration") return statement.declarations.flatMap((item) => patternNames(item.id));
    return [];
  }

  function statementList(statements, scope, { directives = false, switchCase = false } = {}) {
    const mark = scope.names.length;
    let index = 0;
    if (directives) {
      while (index < statements.length && statements[index].type === "ExpressionStatement" && typeof statements[index].directive === "string") index += 1;
    }
    for (; index < statements.length; index++) {
      const statement = statements[index];
      if (statement.type !== "EmptyStatement") insert(statement.start, `${siteCall(scope, statement.loc.start.line)};`);
      visit(statement, scope);
      const names = declaredNames(statement);
      if (statement.kind === "var") for (const name of names) scope.vars.add(name);
      // let/const directly in a switch case may be skipped over by a jump to a later case (TDZ).
      if (statement.kind === "var" || !switchCase) scope.names.push(...names);
    }
    // Block-scoped names end with the block; var names stay (hoisted to the function).
    const kept = scope.names.slice(mark).filter((name) => scope.vars.has(name));
    scope.names.length = mark;
    scope.names.push(...kept);
  }

  /** A statement in a body position that may not be a block: wrap it so a site can precede it. */
  function body(statement, scope, headerSite) {
    if (statement.type === "BlockStatement") {
      if (headerSite !== undefined) insert(statement.start + 1, `${headerSite};`);
      statementList(statement.body, scope);
      return;
    }
    insert(statement.start, `{${headerSite === undefined ? "" : `${headerSite};`}${statement.type === "EmptyStatement" ? "" : `${siteCall(scope, statement.loc.start.line)};`}`);
    visit(statement, scope);
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
    const frame = `${prefix}f${frameCounter}`;
    const params = node.params.flatMap((param) => patternNames(param));
    const method = parent !== undefined && parent.type === "MethodDefinition" && !parent.static && node.type === "FunctionExpression";
    const scope = new FunctionScope(frame, params, method);
    const name = JSON.stringify(functionName(node, parent));
    const line = node.loc.start.line;
    // A derived constructor's `this` does not exist before super(): its call event shows the arguments only.
    const paramGetter = getter(new FunctionScope(frame, params, method && parent.kind !== "constructor"));
    for (const param of node.params) visit(param, scope);
    const entry = `const ${frame}=${tracer}.c(${name},${line},${paramGetter});try{`;
    const exit = `}catch(${prefix}e){${tracer}.x(${frame},${prefix}e);throw ${prefix}e}finally{${tracer}.o(${frame})}`;
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
    insert(arrow + 2, `{${entry}${siteCall(scope, node.body.loc.start.line)};return ${tracer}.r(${frame},(`);
    visit(node.body, scope);
    insert(node.end, `))${exit}}`);
  }

  function visit(node, scope, parent) {
    if (node === null || node === undefined || typeof node.type !== "string") return;
    switch (node.type) {
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        visitFunction(node, parent);
        return;
      case "BlockStatement":
      case "StaticBlock":
        statementList(node.body, scope);
        return;
      case "IfStatement":
        visit(node.test, scope, node);
        body(node.consequent, scope);
        if (node.alternate) body(node.alternate, scope);
        return;
      case "ForStatement": {
        const mark = scope.names.length;
        if (node.init) {
          visit(node.init, scope, node);
          if (node.init.type === "VariableDeclaration") {
            scope.names.push(...declaredNames(node.init));
            if (node.init.kind === "var") for (const name of declaredNames(node.init)) scope.vars.add(name);
          }
        }
        if (node.test) {
          insert(node.test.start, `(${siteCall(scope, node.test.loc.start.line)},`);
          visit(node.test, scope, node);
          insert(node.test.end, ")");
        }
        if (node.update) visit(node.update, scope, node);
        body(node.body, scope);
        if (node.init?.kind !== "var") scope.names.length = mark;
        return;
      }
      case "ForInStatement":
      case "ForOfStatement": {
        const mark = scope.names.length;
        visit(node.right, scope, node);
        if (node.left.type === "VariableDeclaration") scope.names.push(...declaredNames(node.left));
        const header = siteCall(scope, node.loc.start.line);
        body(node.body, scope, header);
        if (node.left.kind !== "var") scope.names.length = mark;
        return;
      }
      case "WhileStatement":
        insert(node.test.start, `(${siteCall(scope, node.test.loc.start.line)},`);
        visit(node.test, scope, node);
        insert(node.test.end, ")");
        body(node.body, scope);
        return;
      case "DoWhileStatement":
        body(node.body, scope);
        insert(node.test.start, `(${siteCall(scope, node.test.loc.start.line)},`);
        visit(node.test, scope, node);
        insert(node.test.end, ")");
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
        visit(node.block, scope, node);
        if (node.handler) {
          const mark = scope.names.length;
          if (node.handler.param) scope.names.push(...patternNames(node.handler.param));
          statementList(node.handler.body.body, scope);
          scope.names.length = mark;
        }
        if (node.finalizer) visit(node.finalizer, scope, node);
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
  const topScope = new FunctionScope(moduleFrame, []);
  const statements = ast.body;
  let position = 0;
  let index = 0;
  while (index < statements.length && statements[index].type === "ExpressionStatement" && typeof statements[index].directive === "string") {
    position = statements[index].end;
    index += 1;
  }
  if (source.startsWith("#!")) position = Math.max(position, source.indexOf("\n") >= 0 ? source.indexOf("\n") : source.length);
  insert(position, `const ${moduleFrame}=${tracer}.m();`);
  statementList(statements, topScope, { directives: true });
  return { code: applyEdits(source, edits), sites: site };
}
