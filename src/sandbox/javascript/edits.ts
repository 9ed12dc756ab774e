/**
 * Edits of a JavaScript program on its acorn syntax tree, for the
 * trace-guided repair search (architecture/javascript.md, "Edits"). Each edit
 * replaces the source range of one node (statement edits: whole statements)
 * with new text and keeps the rest of the program's text as it was, so it
 * reads as a one-line diff and the lines around it keep their numbers.
 * Parsing only: no candidate program runs here.
 *
 * Every returned program parses with the options the sandbox parses with
 * (sandbox/javascript/instrument.mjs) and, for an expression edit, holds the
 * replacement as one node in the replaced node's place (else the replacement
 * is tried in parentheses), so an edit is the change it says it is.
 */
import * as acorn from "acorn";

import type { Edit, EditOperator, EditRequest } from "../../shared/schema/edits.ts";

// ---------------------------------------------------------------------------
// Bounds

/** Larger programs get no edits: parsing one already costs a good part of the time an answer may take. */
const MAX_CODE_CHARS = 1 << 20;
/** More syntax nodes than this and the program is not indexed (memory and time, not a grammar rule). */
const MAX_NODES = 400_000;
/** The answer is cut here: each edit re-parses the whole program (~0.1 ms for a small one, ~70 ms for 200 KB). */
const DEADLINE_MS = 1_000;
/** Edited programs returned, all edits together, in UTF-8 bytes. */
const MAX_RETURNED_BYTES = 4 << 20;
/** Names (or other return values) tried in one place, nearest declarations first. */
const MAX_NAMES = 12;
/** Statements copied into one place, nearest first. */
const MAX_COPIES = 8;
/** A statement's divisors given a guard, and the errors the guard may throw. */
const MAX_GUARDED_DIVISORS = 2;
const GUARD_ERRORS = ["RangeError", "Error", "TypeError"] as const;
/** Names whose `.length` a read is taken modulo (the nearest declarations first). */
const MAX_MODULO_NAMES = 4;
/** Branches of an `else if` chain whose pairs are swapped. */
const MAX_CHAIN_BRANCHES = 6;
/** Longer statements are neither duplicated nor copied: such edits are large and rarely repairs. */
const MAX_STATEMENT_CHARS = 400;

// ---------------------------------------------------------------------------
// Parsing, as the sandbox does it

type SourceType = "script" | "module";

/** instrument.mjs's options; `locations` is left off (lines come from LineTable), which changes nothing about what parses. */
const PARSE_OPTIONS = { ecmaVersion: "latest", allowHashBang: true } as const;

/** acorn answers deep nesting with a SyntaxError ("Not enough stack space") or a RangeError: both mean no tree. */
function parseAs(code: string, sourceType: SourceType): acorn.Program | undefined {
  try {
    return acorn.parse(code, { ...PARSE_OPTIONS, sourceType });
  } catch {
    return undefined;
  }
}

/** A script, else a module that imports or exports (instrument.mjs, parseProgram). */
function parseProgram(code: string): { ast: acorn.Program; sourceType: SourceType } | undefined {
  const script = parseAs(code, "script");
  if (script !== undefined) return { ast: script, sourceType: "script" };
  const module = parseAs(code, "module");
  if (module?.body.some((node) => node.type.startsWith("Import") || node.type.startsWith("Export"))) return { ast: module, sourceType: "module" };
  return undefined;
}

/** 1-based line of an offset, with acorn's line breaks (so lines match the sandbox's traces). */
class LineTable {
  private readonly starts: number[] = [0];

  constructor(code: string) {
    for (const match of code.matchAll(/\r\n?|\n|\u2028|\u2029/g)) this.starts.push(match.index + match[0].length);
  }

  lineOf(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.starts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  }
}

// ---------------------------------------------------------------------------
// The tree, indexed once

/** One node where it sits: its parent, the parent's property holding it, its function. */
interface Ref {
  readonly node: acorn.AnyNode;
  readonly parent: Ref | undefined;
  readonly key: string;
  /** Position in the parent's list, -1 when the property holds one node. */
  readonly index: number;
  readonly scope: Scope;
  readonly line: number;
}

/** A declared name and where it can be read: from `at` (-1: hoisted) within [from, to). */
interface Declaration {
  readonly name: string;
  readonly at: number;
  readonly from: number;
  readonly to: number;
  /** A function or class declaration's own name (not a value a closure would mean to read). */
  readonly declaresCode?: boolean;
}

/** What a function (or the program) declares and holds, for the edits that draw on it. */
interface Scope {
  readonly owner: acorn.AnyNode;
  readonly declarations: Declaration[];
  readonly returns: Ref[];
  /** Statements of its statement lists, nested blocks included, nested functions not. */
  readonly statements: Ref[];
  /** The function (or program) around this one: a closure reads its names too. */
  readonly enclosing: Scope | undefined;
}

interface Program {
  readonly code: string;
  readonly sourceType: SourceType;
  readonly lines: LineTable;
  /** Nodes starting on each site line, in source order, outer before inner. */
  readonly atLine: ReadonlyMap<number, readonly Ref[]>;
}

interface Child {
  readonly key: string;
  readonly index: number;
  readonly node: acorn.AnyNode;
}

function isNode(value: unknown): value is acorn.AnyNode {
  if (typeof value !== "object" || value === null) return false;
  const fields = value as { type?: unknown; start?: unknown };
  return typeof fields.type === "string" && typeof fields.start === "number";
}

/** A node's children in source order, whatever its type (acorn's nodes are plain objects). */
function childrenOf(node: acorn.AnyNode): Child[] {
  const children: Child[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (Array.isArray(value)) value.forEach((item: unknown, index) => isNode(item) && children.push({ key, index, node: item }));
    else if (isNode(value)) children.push({ key, index: -1, node: value });
  }
  return children.sort((left, right) => left.node.start - right.node.start);
}

const FUNCTION_TYPES = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);
/** Nodes with a scope of their own here: functions, and class static blocks (their `var`s, no `break` across them). */
const SCOPE_TYPES = new Set([...FUNCTION_TYPES, "StaticBlock"]);
const LOOP_TYPES = new Set(["ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement", "DoWhileStatement"]);
const LIST_HOLDERS = new Set(["Program", "BlockStatement", "StaticBlock", "SwitchCase"]);
const STATEMENT_TYPES = new Set([
  "ExpressionStatement",
  "BlockStatement",
  "EmptyStatement",
  "DebuggerStatement",
  "WithStatement",
  "ReturnStatement",
  "LabeledStatement",
  "BreakStatement",
  "ContinueStatement",
  "IfStatement",
  "SwitchStatement",
  "ThrowStatement",
  "TryStatement",
  "WhileStatement",
  "DoWhileStatement",
  "ForStatement",
  "ForInStatement",
  "ForOfStatement",
  "FunctionDeclaration",
  "VariableDeclaration",
  "ClassDeclaration",
]);

function newScope(owner: acorn.AnyNode, enclosing: Scope | undefined): Scope {
  return { owner, declarations: [], returns: [], statements: [], enclosing };
}

/**
 * Walks the tree once, without recursion (a deeply nested program must not
 * overflow the stack here), giving every node its Ref and recording
 * declarations, returns and statements per function.
 */
function indexProgram(code: string, siteLines: ReadonlySet<number>): Program | undefined {
  const parsed = parseProgram(code);
  if (parsed === undefined) return undefined;
  const lines = new LineTable(code);
  const atLine = new Map<number, Ref[]>();
  const root: Ref = { node: parsed.ast, parent: undefined, key: "", index: -1, scope: newScope(parsed.ast, undefined), line: 1 };
  const pending: Ref[] = [root];
  for (let visited = 0; pending.length > 0; visited++) {
    if (visited > MAX_NODES) return undefined;
    const ref = pending.pop() as Ref;
    record(ref);
    if (siteLines.has(ref.line)) listAt(atLine, ref.line).push(ref);
    const inner = SCOPE_TYPES.has(ref.node.type) ? newScope(ref.node, ref.scope) : ref.scope;
    const children = childrenOf(ref.node);
    for (let index = children.length - 1; index >= 0; index--) {
      const child = children[index] as Child;
      // A function's own name belongs to the scope around it; its parameters and body to its own.
      const scope = child.key === "id" && inner !== ref.scope ? ref.scope : inner;
      pending.push({ node: child.node, parent: ref, key: child.key, index: child.index, scope, line: lines.lineOf(child.node.start) });
    }
  }
  return { code, sourceType: parsed.sourceType, lines, atLine };
}

function listAt(map: Map<number, Ref[]>, line: number): Ref[] {
  const existing = map.get(line);
  if (existing !== undefined) return existing;
  const created: Ref[] = [];
  map.set(line, created);
  return created;
}

/** What one node adds to its scope's records. */
function record(ref: Ref): void {
  if (ref.node.type === "ReturnStatement") ref.scope.returns.push(ref);
  if (inStatementList(ref)) ref.scope.statements.push(ref);
  const declaration = ref.node.type === "Identifier" ? declarationOf(ref, ref.node.name) : undefined;
  if (declaration !== undefined) ref.scope.declarations.push(declaration);
}

const PATTERN_WRAPPERS = new Set(["ArrayPattern", "ObjectPattern", "RestElement", "AssignmentPattern", "Property"]);

/** The declaration an identifier makes, if it stands in a binding position. */
function declarationOf(ref: Ref, name: string): Declaration | undefined {
  let binding = ref;
  // Climb out of destructuring patterns (`[a, {b}] = …`) to what declares them.
  while (binding.parent !== undefined && PATTERN_WRAPPERS.has(binding.parent.node.type) && isPatternPart(binding)) binding = binding.parent;
  const owner = binding.parent;
  if (owner === undefined) return undefined;
  const whole = ref.scope.owner;
  switch (owner.node.type) {
    case "VariableDeclarator":
      // Readable once its declarator is done: `const x = f(x)` reads no x of its own.
      if (binding.key !== "id") return undefined;
      return owner.parent?.node.type === "VariableDeclaration" && owner.parent.node.kind !== "var"
        ? { name, at: owner.node.end, ...blockRange(owner.parent) }
        : { name, at: owner.node.end, from: whole.start, to: whole.end };
    case "FunctionDeclaration":
    case "FunctionExpression":
    case "ArrowFunctionExpression":
      if (binding.key === "params") return { name, at: -1, from: whole.start, to: whole.end };
      return binding.key === "id" && owner.node.type === "FunctionDeclaration" ? { name, at: -1, from: whole.start, to: whole.end, declaresCode: true } : undefined;
    case "ClassDeclaration":
      return binding.key === "id" ? { name, at: owner.node.end, ...blockRange(owner), declaresCode: true } : undefined;
    case "CatchClause":
      return binding.key === "param" ? { name, at: ref.node.start, from: owner.node.start, to: owner.node.end } : undefined;
    case "ImportSpecifier":
    case "ImportDefaultSpecifier":
    case "ImportNamespaceSpecifier":
      return binding.key === "local" ? { name, at: -1, from: whole.start, to: whole.end } : undefined;
    default:
      return undefined;
  }
}

/** Whether `ref` is a bound part of the pattern holding it (not a default value or a computed key). */
function isPatternPart(ref: Ref): boolean {
  const parent = ref.parent?.node;
  if (parent === undefined) return false;
  if (parent.type === "AssignmentPattern") return ref.key === "left";
  if (parent.type === "Property") return ref.key === "value" && ref.parent?.parent?.node.type === "ObjectPattern";
  return true;
}

/** The block a let/const/class declaration is visible in. */
function blockRange(declaration: Ref): { from: number; to: number } {
  let block = declaration.parent;
  while (block !== undefined && !["Program", "BlockStatement", "StaticBlock", "SwitchStatement", ...LOOP_TYPES].includes(block.node.type)) block = block.parent;
  const node = block?.node ?? declaration.node;
  return { from: node.start, to: node.end };
}

/**
 * Names visible at the node: its own function's, the nearest declaration
 * first, then hoisted ones; then the values of each enclosing function
 * outwards (a callback reads the array its caller maps over), without the
 * functions and classes declared there: a closure rarely meant one of those
 * where it reads a value, and every one of them would be an edit of each
 * read. The program's own top-level names count as a function's too.
 */
function visibleNames(ref: Ref): readonly string[] {
  const known = visibleAt.get(ref);
  if (known !== undefined) return known;
  const names = namesVisibleAt(ref);
  visibleAt.set(ref, names);
  return names;
}

/** Several edits of one node read its visible names (isLocalRead, variable, the modulo wrap): worked out once per node. */
const visibleAt = new WeakMap<Ref, readonly string[]>();

function namesVisibleAt(ref: Ref): string[] {
  const at = ref.node.start;
  const names: string[] = [];
  for (let scope: Scope | undefined = ref.scope; scope !== undefined; scope = scope.enclosing) {
    const own = scope === ref.scope;
    const visible = scope.declarations.filter((item) => item.from <= at && at < item.to && item.at <= at && (own || item.declaresCode !== true));
    visible.sort((left, right) => right.at - left.at);
    names.push(...visible.map((item) => item.name));
  }
  return [...new Set(names)];
}

function inStatementList(ref: Ref): boolean {
  return ref.index >= 0 && ref.parent !== undefined && LIST_HOLDERS.has(ref.parent.node.type) && (ref.key === "body" || ref.key === "consequent");
}

/** The statement list holding a statement (ref.index is its position there; inStatementList must hold). */
function statementList(ref: Ref): readonly acorn.AnyNode[] {
  const holder = ref.parent?.node as unknown as Record<string, unknown> | undefined;
  const list = holder?.[ref.key];
  return Array.isArray(list) ? list.filter(isNode) : [];
}

/** Whether an identifier is read where it stands (not declared, assigned, a property name or a label). */
function isRead(ref: Ref): boolean {
  const parent = ref.parent?.node;
  if (parent === undefined) return false;
  switch (parent.type) {
    case "VariableDeclarator":
      return ref.key === "init";
    case "FunctionDeclaration":
    case "FunctionExpression":
    case "ArrowFunctionExpression":
    case "ClassDeclaration":
    case "ClassExpression":
      return ref.key === "body" || ref.key === "superClass";
    case "Property":
      return ref.parent?.parent?.node.type !== "ObjectPattern" && (ref.key === "value" ? !parent.shorthand : parent.computed);
    case "MemberExpression":
      return ref.key === "object" || parent.computed;
    case "MethodDefinition":
    case "PropertyDefinition":
      return ref.key === "value" || parent.computed;
    case "AssignmentExpression":
    case "ForInStatement":
    case "ForOfStatement":
      return ref.key === "right";
    case "AssignmentPattern":
      return ref.key === "right";
    case "UpdateExpression":
    case "ArrayPattern":
    case "ObjectPattern":
    case "RestElement":
    case "CatchClause":
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
    case "MetaProperty":
    case "ImportSpecifier":
    case "ImportDefaultSpecifier":
    case "ImportNamespaceSpecifier":
    case "ExportSpecifier":
      return false;
    default:
      return true;
  }
}

function isCallee(ref: Ref): boolean {
  const parent = ref.parent?.node.type;
  return (ref.key === "callee" && (parent === "CallExpression" || parent === "NewExpression")) || (ref.key === "tag" && parent === "TaggedTemplateExpression");
}

function isScopeNode(node: acorn.AnyNode): boolean {
  return SCOPE_TYPES.has(node.type) || node.type === "Program";
}

/** Whether a statement lies inside a loop of its own function (where `break;` and `continue;` parse). */
function insideLoop(ref: Ref): boolean {
  for (let ancestor = ref.parent; ancestor !== undefined && !isScopeNode(ancestor.node); ancestor = ancestor.parent) {
    if (LOOP_TYPES.has(ancestor.node.type)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Operator siblings and wrappers: the one table of each

type SiblingFamily = "binary_operator" | "comparison" | "boolean_operator" | "augmented_operator" | "call";

/**
 * Groups of tokens that replace each other; a token's siblings are the other
 * members of every group it is in, in table order. `op=` assignments also
 * take the siblings of `op` (augmentedSiblings), so they are not listed.
 */
const SIBLINGS: Readonly<Record<SiblingFamily, readonly (readonly string[])[]>> = {
  binary_operator: [
    ["+", "-", "*", "/", "%", "**"],
    ["&", "|", "^", "<<", ">>", ">>>"],
  ],
  comparison: [
    ["<", "<=", ">", ">="],
    ["===", "!==", "==", "!="],
  ],
  // `??` only against `||`: both give a default, `&&` never does.
  boolean_operator: [
    ["&&", "||"],
    ["||", "??"],
  ],
  augmented_operator: [
    ["=", "+=", "-="],
    ["++", "--"],
  ],
  // Method names (and Math's functions) of calls `x.name(…)`.
  call: [
    ["min", "max"],
    ["some", "every"],
    ["push", "unshift"],
    ["pop", "shift"],
    ["sort", "reverse"],
    ["toLowerCase", "toUpperCase"],
    ["startsWith", "endsWith"],
    ["indexOf", "lastIndexOf"],
    ["includes", "indexOf"],
    ["floor", "ceil", "round", "trunc"],
    ["slice", "substring"],
    ["find", "findLast"],
    ["findIndex", "findLastIndex"],
    ["filter", "find"],
    ["map", "forEach"],
    ["reduce", "reduceRight"],
    ["trimStart", "trimEnd", "trim"],
    ["padStart", "padEnd"],
    ["keys", "values", "entries"],
  ],
};

function siblingsOf(family: SiblingFamily, token: string): string[] {
  const siblings: string[] = [];
  for (const group of SIBLINGS[family]) {
    if (!group.includes(token)) continue;
    for (const other of group) if (other !== token && !siblings.includes(other)) siblings.push(other);
  }
  return siblings;
}

/** `=` → `+=`, `-=`; `+=` → `=`, `-=`, `*=`, …; `||=` → `=`, `&&=`, `??=` (an `op=` takes the siblings of `op`). */
function augmentedSiblings(operator: string): string[] {
  const base = operator.slice(0, -1);
  const derived = operator === "=" ? [] : ["=", ...[...siblingsOf("binary_operator", base), ...siblingsOf("boolean_operator", base)].map((other) => `${other}=`)];
  return [...new Set([...siblingsOf("augmented_operator", operator), ...derived])].filter((other) => other !== operator);
}

/** Calls an expression is wrapped in ("wrap") and taken out of ("unwrap": these and Math's roundings and parsers). */
const WRAP_FUNCTIONS = ["Math.abs", "Number", "String", "Array.from"] as const;
const UNWRAP_FUNCTIONS = new Set<string>([...WRAP_FUNCTIONS, "Math.floor", "Math.ceil", "Math.round", "Math.trunc", "parseInt", "parseFloat", "Boolean", "BigInt"]);
/** Every wrap, with how it is written around an expression's text. */
const WRAPPERS: readonly { readonly name: string; readonly wrap: (text: string) => string }[] = [
  ...WRAP_FUNCTIONS.map((name) => ({ name, wrap: (text: string) => `${name}(${text})` })),
  { name: ".length", wrap: (text) => `${text}.length` },
  { name: "[...].sort()", wrap: (text) => `[...${text}].sort()` },
  // Text compared or counted without its case.
  { name: ".toLowerCase()", wrap: (text) => `${text}.toLowerCase()` },
];
/** Calls that make arrays: their result may hold empty strings or holes a `.filter(Boolean)` drops (`"a  b".split(" ")`). */
const ARRAY_MAKERS = new Set(["split", "map", "match", "slice", "concat"]);

/** Methods whose arguments are positions, where an off-by-one is likely. */
const POSITION_METHODS = new Set(["slice", "substring", "substr", "splice"]);

// ---------------------------------------------------------------------------
// Text

/** How tightly binary and logical operators bind (higher: tighter). */
const PRECEDENCE: Readonly<Record<string, number>> = {
  "??": 1,
  "||": 1,
  "&&": 2,
  "|": 3,
  "^": 4,
  "&": 5,
  "==": 6,
  "!=": 6,
  "===": 6,
  "!==": 6,
  "<": 7,
  "<=": 7,
  ">": 7,
  ">=": 7,
  in: 7,
  instanceof: 7,
  "<<": 8,
  ">>": 8,
  ">>>": 8,
  "+": 9,
  "-": 9,
  "*": 10,
  "/": 10,
  "%": 10,
  "**": 11,
};
const UNARY = 12;
const POSTFIX = 13;
const PRIMARY = 14;

function precedenceOf(node: acorn.AnyNode): number {
  switch (node.type) {
    case "BinaryExpression":
    case "LogicalExpression":
      return PRECEDENCE[node.operator] ?? 0;
    case "UnaryExpression":
    case "AwaitExpression":
      return UNARY;
    case "UpdateExpression":
      return node.prefix ? UNARY : POSTFIX;
    case "ConditionalExpression":
    case "AssignmentExpression":
    case "ArrowFunctionExpression":
    case "YieldExpression":
    case "SequenceExpression":
      return 0;
    default:
      return PRIMARY;
  }
}

/** Whether `node`, as the `side` operand of `operator`, needs parentheses to stay that operand. */
function needsParentheses(node: acorn.AnyNode, operator: string, side: "left" | "right"): boolean {
  // `a ?? b || c` is a syntax error: ?? never mixes with || or && unparenthesised.
  if (node.type === "LogicalExpression" && (node.operator === "??") !== (operator === "??") && (PRECEDENCE[operator] ?? 0) <= 2) return true;
  const inner = precedenceOf(node);
  const outer = PRECEDENCE[operator] ?? PRIMARY;
  // ** groups to the right, and `-a ** b` is a syntax error.
  if (operator === "**") return side === "left" ? inner <= UNARY : inner < outer;
  return side === "left" ? inner < outer : inner <= outer;
}

function sourceOf(program: Program, node: acorn.Node): string {
  return program.code.slice(node.start, node.end);
}

/** A node's text as an operand of `operator`, parenthesised when it must be. */
function operandText(program: Program, node: acorn.AnyNode, operator: string, side: "left" | "right"): string {
  const text = sourceOf(program, node);
  return needsParentheses(node, operator, side) ? `(${text})` : text;
}

/**
 * Where `operator` starts in the text between two operands, past white space,
 * comments and the parentheses of parenthesised operands.
 */
function operatorOffset(between: string, operator: string): number | undefined {
  let at = 0;
  while (at < between.length) {
    const character = between[at] as string;
    if (character === "(" || character === ")" || /\s/.test(character)) at++;
    else if (between.startsWith("/*", at)) at = between.indexOf("*/", at + 2) < 0 ? between.length : between.indexOf("*/", at + 2) + 2;
    else if (between.startsWith("//", at)) at = between.indexOf("\n", at) < 0 ? between.length : between.indexOf("\n", at);
    else break;
  }
  return between.startsWith(operator, at) ? at : undefined;
}

/**
 * A binary, logical or assignment node's text with its operator replaced and
 * everything else kept (line breaks too); operands are parenthesised where
 * the new operator would otherwise regroup them.
 */
function withOperator(program: Program, node: acorn.Node, left: acorn.AnyNode, right: acorn.AnyNode, operator: string, replacement: string, parenthesize: boolean): string | undefined {
  const code = program.code;
  const between = code.slice(left.end, right.start);
  const at = operatorOffset(between, operator);
  if (at === undefined) return undefined;
  let leftText = code.slice(node.start, left.end);
  let rightText = code.slice(right.start, node.end);
  // Text before `left` (or after `right`) inside the node can only be its parentheses.
  if (parenthesize && node.start === left.start && needsParentheses(left, replacement, "left")) leftText = `(${leftText})`;
  if (parenthesize && node.end === right.end && needsParentheses(right, replacement, "right")) rightText = `(${rightText})`;
  return leftText + between.slice(0, at) + replacement + between.slice(at + operator.length) + rightText;
}

/** `node`'s text with `part` (a node inside it) replaced by `text`. */
function replacingPart(program: Program, node: acorn.Node, part: acorn.Node, text: string): string {
  return replacingParts(program, node, [{ start: part.start, end: part.end, text }]);
}

/** `node`'s text with ranges inside it (in order, not overlapping) replaced. */
function replacingParts(program: Program, node: acorn.Node, parts: readonly { readonly start: number; readonly end: number; readonly text: string }[]): string {
  let text = "";
  let position = node.start;
  for (const part of parts) {
    text += program.code.slice(position, part.start) + part.text;
    position = part.end;
  }
  return text + program.code.slice(position, node.end);
}

function firstLine(text: string): string {
  return text.split(/\r\n?|\n|\u2028|\u2029/, 1)[0] ?? "";
}

/** What goes between a statement and one inserted next to it: its own line with its indentation, or a space. */
function separatorBefore(program: Program, node: acorn.Node): string {
  const lineStart = Math.max(program.code.lastIndexOf("\n", node.start - 1), program.code.lastIndexOf("\r", node.start - 1)) + 1;
  const indent = program.code.slice(lineStart, node.start);
  return /^[ \t]*$/.test(indent) ? `\n${indent}` : " ";
}

const NEEDS_TERMINATOR = new Set(["ExpressionStatement", "VariableDeclaration", "ReturnStatement", "ThrowStatement", "BreakStatement", "ContinueStatement", "DoWhileStatement", "DebuggerStatement"]);

/** A statement's text ending in `;` where another statement may follow it on the same line. */
function terminated(program: Program, node: acorn.AnyNode): string {
  const text = sourceOf(program, node);
  return NEEDS_TERMINATOR.has(node.type) && !text.endsWith(";") ? `${text};` : text;
}

/** A number as a literal would write it (rounding noise of ±1 on fractions dropped). */
function numberText(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(15)));
}

/** The value of a number literal, a negated one (`-1`) or `Infinity`. */
function numericValue(node: acorn.AnyNode): number | undefined {
  if (node.type === "Literal" && typeof node.value === "number") return node.value;
  if (node.type === "Identifier" && node.name === "Infinity") return Number.POSITIVE_INFINITY;
  if (node.type === "UnaryExpression" && node.operator === "-") {
    const inner = numericValue(node.argument);
    return inner === undefined ? undefined : -inner;
  }
  return undefined;
}

function propertyName(node: acorn.AnyNode): string | undefined {
  return node.type === "MemberExpression" && !node.computed && node.property.type === "Identifier" ? node.property.name : undefined;
}

// ---------------------------------------------------------------------------
// Candidates

/** One proposed replacement of code[start, end). */
interface Candidate {
  readonly operator: EditOperator;
  /** The node type the edit names. */
  readonly node: string;
  readonly start: number;
  readonly end: number;
  readonly text: string;
  /** An expression edit: the replacement must stand as one node in its place (else it is tried in parentheses). */
  readonly expression: boolean;
  /** How a statement edit is shown, when not as the replaced text and its replacement. */
  readonly shown?: { readonly line: number; readonly before: string; readonly after: string };
}

type Generator = (ref: Ref, program: Program) => Iterable<Candidate>;

function replaceNode(operator: EditOperator, node: acorn.AnyNode, text: string): Candidate {
  return { operator, node: node.type, start: node.start, end: node.end, text, expression: true };
}

/** `E ± 1` for a bound or position E: a literal moves, `x + 1`/`x - 1` lose their 1, anything else gains one. */
function shiftedByOne(program: Program, node: acorn.AnyNode): string[] {
  const value = numericValue(node);
  if (value !== undefined && Number.isFinite(value)) return [numberText(value + 1), numberText(value - 1)];
  if (node.type === "BinaryExpression" && (node.operator === "+" || node.operator === "-") && numericValue(node.right) === 1) return [sourceOf(program, node.left)];
  return [`${operandText(program, node, "+", "left")} + 1`, `${operandText(program, node, "-", "left")} - 1`];
}

function* comparison(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (node.type !== "BinaryExpression") return;
  for (const sibling of siblingsOf("comparison", node.operator)) {
    const text = withOperator(program, node, node.left, node.right, node.operator, sibling, true);
    if (text !== undefined) yield replaceNode("comparison", node, text);
  }
}

function* binaryOperator(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (node.type !== "BinaryExpression") return;
  for (const sibling of siblingsOf("binary_operator", node.operator)) {
    const text = withOperator(program, node, node.left, node.right, node.operator, sibling, true);
    if (text !== undefined) yield replaceNode("binary_operator", node, text);
  }
}

function* booleanOperator(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (node.type !== "LogicalExpression") return;
  for (const sibling of siblingsOf("boolean_operator", node.operator)) {
    const text = withOperator(program, node, node.left, node.right, node.operator, sibling, true);
    if (text !== undefined) yield replaceNode("boolean_operator", node, text);
  }
}

function* augmentedOperator(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (node.type === "AssignmentExpression") {
    for (const sibling of augmentedSiblings(node.operator)) {
      const text = withOperator(program, node, node.left, node.right, node.operator, sibling, false);
      if (text !== undefined) yield replaceNode("augmented_operator", node, text);
    }
  } else if (node.type === "UpdateExpression") {
    const text = sourceOf(program, node);
    for (const sibling of siblingsOf("augmented_operator", node.operator)) {
      yield replaceNode("augmented_operator", node, node.prefix ? sibling + text.slice(2) : text.slice(0, -2) + sibling);
    }
  }
}

/** Literals whose value is part of the syntax, not of the computation. */
function isFixedLiteral(ref: Ref): boolean {
  const parent = ref.parent?.node;
  if (parent === undefined) return true;
  if (parent.type === "ExpressionStatement") return parent.directive !== undefined;
  if (parent.type === "Property" || parent.type === "MethodDefinition" || parent.type === "PropertyDefinition") return ref.key === "key" && !parent.computed;
  return ref.key === "source";
}

/** Whether a constant seeds a variable (`let best = 0`), where ±Infinity is a likely repair. */
function seedsVariable(ref: Ref): boolean {
  const parent = ref.parent?.node.type;
  return (parent === "VariableDeclarator" && ref.key === "init") || (parent === "AssignmentExpression" && ref.key === "right");
}

function numberAlternatives(value: number, seed: boolean): string[] {
  const values = [value + 1, value - 1, 0, 1, -1, -value, ...(seed ? [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] : [])];
  const current = numberText(value);
  return [...new Set(values.filter((other) => !Number.isNaN(other)).map(numberText))].filter((text) => text !== current);
}

function bigintAlternatives(digits: string): string[] {
  const value = BigInt(digits);
  const values = [value + 1n, value - 1n, 0n, 1n, -1n, -value];
  return [...new Set(values.filter((other) => other !== value).map((other) => `${other}n`))];
}

function constantAlternatives(ref: Ref): string[] {
  const node = ref.node;
  // `-1` is edited as a whole, never as the `1` inside it.
  if (ref.parent?.node.type === "UnaryExpression" && ref.parent.node.operator === "-") return [];
  if ((node.type === "Literal" && isFixedLiteral(ref)) || (node.type === "Identifier" && !isRead(ref))) return [];
  const number = numericValue(node);
  if (number !== undefined) return numberAlternatives(number, seedsVariable(ref));
  if (node.type === "Identifier") return node.name === "undefined" ? ["null"] : [];
  if (node.type === "ArrayExpression") return node.elements.length > 0 ? ["[]"] : [];
  if (node.type !== "Literal") return [];
  if (typeof node.bigint === "string") return bigintAlternatives(node.bigint);
  if (typeof node.value === "boolean") return [String(!node.value)];
  if (node.value === null && node.raw === "null") return ["undefined"];
  if (typeof node.value === "string" && node.value !== "") return [`${node.raw?.[0] ?? '"'}${node.raw?.[0] ?? '"'}`];
  return [];
}

/** Separators a string split by one literal character may have meant: runs of spaces, of anything not a word character. */
const SPLIT_PATTERNS = ["/\\s+/", "/\\W+/"] as const;

/** `s.split(" ")` → `s.split(/\s+/)`, `s.split(/\W+/)`: words split at every single space, punctuation kept. */
function splitPatterns(ref: Ref): readonly string[] {
  const node = ref.node;
  const call = ref.parent?.node;
  if (node.type !== "Literal" || typeof node.value !== "string" || node.value.length !== 1 || /\w/.test(node.value)) return [];
  return call?.type === "CallExpression" && ref.key === "arguments" && propertyName(call.callee) === "split" ? SPLIT_PATTERNS : [];
}

function* constant(ref: Ref): Iterable<Candidate> {
  for (const text of [...constantAlternatives(ref), ...splitPatterns(ref)]) yield replaceNode("constant", ref.node, text);
}

/** The side of a loop test that is the bound: not the loop's own counter. */
function loopBound(ref: Ref): acorn.AnyNode | undefined {
  const node = ref.node;
  const loop = ref.parent?.node;
  if (node.type !== "BinaryExpression" || ref.key !== "test" || loop === undefined || !LOOP_TYPES.has(loop.type)) return undefined;
  if (siblingsOf("comparison", node.operator).length === 0 || node.left.type === "PrivateIdentifier") return undefined;
  const counter = loop.type === "ForStatement" ? counterName(loop.init) : undefined;
  return counter !== undefined && node.right.type === "Identifier" && node.right.name === counter ? node.left : node.right;
}

function counterName(init: acorn.ForStatement["init"]): string | undefined {
  if (init?.type === "VariableDeclaration") return init.declarations[0]?.id.type === "Identifier" ? init.declarations[0].id.name : undefined;
  return init?.type === "AssignmentExpression" && init.left.type === "Identifier" ? init.left.name : undefined;
}

/** Positions: arguments of slice/substring/…, subscripts, loop bounds, `.length` and `E ± 1`. */
function* offByOne(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  const bound = loopBound(ref);
  if (bound !== undefined) for (const text of shiftedByOne(program, bound)) yield replaceNode("off_by_one", node, replacingPart(program, node, bound, text));
  if (node.type === "CallExpression" && POSITION_METHODS.has(propertyName(node.callee) ?? "")) {
    for (const argument of node.arguments) {
      if (argument.type === "SpreadElement") continue;
      for (const text of shiftedByOne(program, argument)) yield replaceNode("off_by_one", node, replacingPart(program, node, argument, text));
    }
  }
  if (node.type === "MemberExpression" && node.computed && !(node.property.type === "Literal" && typeof node.property.value === "string")) {
    for (const text of shiftedByOne(program, node.property)) yield replaceNode("off_by_one", node, replacingPart(program, node, node.property, text));
  }
  if (node.type === "BinaryExpression" && (node.operator === "+" || node.operator === "-") && numericValue(node.right) === 1) {
    yield replaceNode("off_by_one", node, sourceOf(program, node.left));
  } else if (propertyName(node) === "length" && isRead(ref) && ref.key !== "object" && !isCallee(ref) && !isShiftedOperand(ref)) {
    yield replaceNode("off_by_one", node, `${sourceOf(program, node)} - 1`);
  }
}

/** Whether the node is the E of an `E ± 1` (which already has its shift). */
function isShiftedOperand(ref: Ref): boolean {
  const parent = ref.parent?.node;
  return parent?.type === "BinaryExpression" && (parent.operator === "+" || parent.operator === "-") && ref.key === "left" && numericValue(parent.right) === 1;
}

/** Identifiers read where they stand, naming a variable of their function. */
function isLocalRead(ref: Ref): ref is Ref & { node: acorn.Identifier } {
  return ref.node.type === "Identifier" && isRead(ref) && !isCallee(ref) && visibleNames(ref).includes(ref.node.name);
}

function* variable(ref: Ref): Iterable<Candidate> {
  if (!isLocalRead(ref)) return;
  const current = ref.node.name;
  for (const name of visibleNames(ref).filter((other) => other !== current).slice(0, MAX_NAMES)) yield replaceNode("variable", ref.node, name);
}

function* callSibling(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (node.type !== "CallExpression" || node.callee.type !== "MemberExpression") return;
  const callee = node.callee;
  const name = propertyName(callee);
  if (name === undefined) return;
  for (const sibling of siblingsOf("call", name)) yield replaceNode("call", callee, replacingPart(program, callee, callee.property, sibling));
  // sort() compares as strings: numbers want a comparator.
  if (name === "sort" && node.arguments.length === 0 && sourceOf(program, node).endsWith(")")) {
    for (const comparator of ["(a, b) => a - b", "(a, b) => b - a"]) yield replaceNode("call", node, `${sourceOf(program, node).slice(0, -1)}${comparator})`);
  }
  yield* awaitedLoop(ref, program);
}

/**
 * The nodes of `root`, root first, without recursion; with `ownOnly`, none
 * inside its nested functions and static blocks (what belongs to another scope).
 */
function* nodesWithin(root: acorn.AnyNode, ownOnly: boolean): IterableIterator<acorn.AnyNode> {
  const pending: acorn.AnyNode[] = [root];
  while (pending.length > 0) {
    const node = pending.pop() as acorn.AnyNode;
    yield node;
    if (ownOnly && node !== root && isScopeNode(node)) continue;
    for (const child of childrenOf(node)) pending.push(child.node);
  }
}

function anyNode(root: acorn.AnyNode, ownOnly: boolean, matches: (node: acorn.AnyNode) => boolean): boolean {
  for (const node of nodesWithin(root, ownOnly)) if (matches(node)) return true;
  return false;
}

/** A function that may await (top-level `await` is not available in the sandbox: architecture/javascript.md). */
function isAsyncScope(scope: Scope): boolean {
  const owner = scope.owner;
  return FUNCTION_TYPES.has(owner.type) && (owner as acorn.Function).async;
}

/**
 * `xs.forEach(async (x, i) => { … })` → `for (let [i, x] of xs.entries()) { … }`
 * (one parameter: `for (let x of xs.values())`, which is what forEach hands
 * a Map's or a Set's callback too): forEach does not wait for an async
 * callback, so what follows the call runs before any of its awaits (a total
 * still 0). Only in a function that may await, for an arrow callback with
 * plain parameters that the list does not name, that neither returns nor
 * declares a `var` (the loop's body is the function's own); `let`, as the
 * callback may assign its parameters; an expression body is awaited.
 */
function* awaitedLoop(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  const statement = ref.parent?.node;
  if (node.type !== "CallExpression" || propertyName(node.callee) !== "forEach" || statement?.type !== "ExpressionStatement" || node.callee.type !== "MemberExpression") return;
  const callback = node.arguments[0];
  if (node.arguments.length !== 1 || callback?.type !== "ArrowFunctionExpression" || !callback.async || !isAsyncScope(ref.scope)) return;
  const names = callback.params.map((param) => (param.type === "Identifier" ? param.name : undefined));
  if (names.length < 1 || names.length > 2 || names.includes(undefined)) return;
  const list = node.callee.object;
  // The loop's variable would shadow a name the list reads (`node.children.forEach(async (node) => …)`).
  if (list.type === "Super" || anyNode(list, false, (inner) => inner.type === "Identifier" && names.includes(inner.name))) return;
  // The loop's body is the function's own: a return would end it, a var would land in it.
  if (anyNode(callback.body, true, (inner) => inner.type === "ReturnStatement" || (inner.type === "VariableDeclaration" && inner.kind === "var"))) return;
  const [value, index] = names as string[];
  const listText = list.type === "Identifier" || list.type === "MemberExpression" || list.type === "CallExpression" ? sourceOf(program, list) : `(${sourceOf(program, list)})`;
  const head = index === undefined ? `for (let ${value} of ${listText}.values())` : `for (let [${index}, ${value}] of ${listText}.entries())`;
  const expression = callback.body;
  const body = expression.type === "BlockStatement" ? sourceOf(program, expression) : `{ ${expression.type === "AwaitExpression" ? "" : "await "}(${sourceOf(program, expression)}); }`;
  yield statementEdit("call", program, statement, { start: statement.start, end: statement.end, text: `${head} ${body}` }, { before: sourceOf(program, statement), after: head });
}

function* argumentOrder(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (node.type === "CallExpression" || node.type === "NewExpression") {
    for (let index = 0; index + 1 < node.arguments.length; index++) {
      const first = node.arguments[index] as acorn.AnyNode;
      const second = node.arguments[index + 1] as acorn.AnyNode;
      const swapped = sourceOf(program, second) + program.code.slice(first.end, second.start) + sourceOf(program, first);
      yield replaceNode("argument_order", node, program.code.slice(node.start, first.start) + swapped + program.code.slice(second.end, node.end));
    }
  } else if (node.type === "BinaryExpression" && ["-", "/", "%", "**"].includes(node.operator) && node.left.type !== "PrivateIdentifier") {
    // Operands of an operator that does not commute (a comparator's `a - b`); one line only, so no line moves.
    if (sourceOf(program, node).includes("\n")) return;
    yield replaceNode("argument_order", node, `${operandText(program, node.right, node.operator, "left")} ${node.operator} ${operandText(program, node.left, node.operator, "right")}`);
  }
}

/** Tests of if/while/for/ternaries, and the operands of a test that is `a && b` or `a || b`. */
function isCondition(ref: Ref): boolean {
  const parent = ref.parent;
  if (parent === undefined) return false;
  if (ref.key === "test") return ["IfStatement", "WhileStatement", "DoWhileStatement", "ForStatement", "ConditionalExpression"].includes(parent.node.type);
  return parent.node.type === "LogicalExpression" && parent.node.operator !== "??" && parent.key === "test" && isCondition(parent);
}

function* negateCondition(ref: Ref, program: Program): Iterable<Candidate> {
  if (!isCondition(ref)) return;
  const node = ref.node;
  if (node.type === "UnaryExpression" && node.operator === "!") yield replaceNode("negate_condition", node, sourceOf(program, node.argument));
  else yield replaceNode("negate_condition", node, precedenceOf(node) >= UNARY ? `!${sourceOf(program, node)}` : `!(${sourceOf(program, node)})`);
}

function* returnValue(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (node.type !== "ReturnStatement" || node.argument === null || node.argument === undefined) return;
  const argument = node.argument;
  const current = sourceOf(program, argument);
  const others = ref.scope.returns.flatMap((other) => (other.node.type === "ReturnStatement" && other.node.argument ? [sourceOf(program, other.node.argument)] : []));
  const alternatives = [...new Set([...others.filter((text) => text.length <= MAX_STATEMENT_CHARS), ...visibleNames(ref)])].filter((text) => text !== current);
  for (const text of alternatives.slice(0, MAX_NAMES)) {
    const after = replacingPart(program, node, argument, text);
    yield { operator: "return_value", node: node.type, start: node.start, end: node.end, text: after, expression: false };
  }
}

/** Expressions worth wrapping: local names, property reads and calls, as values (not callees or objects of a member). */
function isWrapTarget(ref: Ref): boolean {
  const type = ref.node.type;
  if (type === "Identifier") return isLocalRead(ref);
  if (type !== "MemberExpression" && type !== "CallExpression") return false;
  return isRead(ref) && !isCallee(ref) && !(ref.parent?.node.type === "MemberExpression" && ref.key === "object") && ref.parent?.node.type !== "ChainExpression";
}

/** Whether the node already sits inside this wrapper (`Math.abs(x)` is not wrapped in Math.abs again). */
function alreadyWrapped(ref: Ref, program: Program, name: string): boolean {
  const parent = ref.parent?.node;
  if (parent === undefined) return false;
  if (name === ".length") return propertyName(ref.node) === "length" || propertyName(parent) === "length";
  return parent.type === "CallExpression" && ref.key === "arguments" && sourceOf(program, parent.callee) === name;
}

function* wrap(ref: Ref, program: Program): Iterable<Candidate> {
  yield* filtered(ref, program);
  yield* accumulated(ref, program);
  if (!isWrapTarget(ref)) return;
  for (const wrapper of WRAPPERS) {
    if (!alreadyWrapped(ref, program, wrapper.name)) yield replaceNode("wrap", ref.node, wrapper.wrap(sourceOf(program, ref.node)));
  }
  yield* wrappedAround(ref, program);
  yield* firstElement(ref);
}

/** `rows.map(…)` → `rows[0].map(…)`: a method or `.length` meant for the first element of a list (a matrix's first row). */
function* firstElement(ref: Ref): Iterable<Candidate> {
  const parent = ref.parent?.node;
  if (ref.node.type !== "Identifier" || parent?.type !== "MemberExpression" || ref.key !== "object" || parent.computed) return;
  yield replaceNode("wrap", ref.node, `${ref.node.name}[0]`);
}

/** `x = [e]` → `x = [...(x ?? []), e]`: a list that was replaced where it should have grown. */
function* accumulated(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  const parent = ref.parent?.node;
  if (node.type !== "ArrayExpression" || parent?.type !== "AssignmentExpression" || parent.operator !== "=" || ref.key !== "right") return;
  const elements = node.elements.map((element) => (element === null ? "" : sourceOf(program, element)));
  yield replaceNode("wrap", node, `[...(${sourceOf(program, parent.left)} ?? []), ${elements.join(", ")}]`);
}

/** `k` → `k % items.length`: a count or an index that should wrap around another name's length. */
function* wrappedAround(ref: Ref, program: Program): Iterable<Candidate> {
  if (ref.node.type !== "Identifier") return;
  const own = ref.node.name;
  for (const other of visibleNames(ref).filter((name) => name !== own).slice(0, MAX_MODULO_NAMES)) {
    yield replaceNode("wrap", ref.node, `${own} % ${other}.length`);
  }
}

/** `s.split(" ")` → `s.split(" ").filter(Boolean)`, also as the object of a further call (`….reverse()`). */
function* filtered(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (node.type !== "CallExpression" || !ARRAY_MAKERS.has(propertyName(node.callee) ?? "") || isCallee(ref)) return;
  if (ref.parent?.node.type === "MemberExpression" && propertyName(ref.parent.node) === "filter") return;
  yield replaceNode("wrap", node, `${sourceOf(program, node)}.filter(Boolean)`);
}

/** What an unwrap leaves: the argument of a known call, the array of `.length`, `e` of `[...e]` and `[...e].sort()`. */
function unwrapped(ref: Ref, program: Program): acorn.AnyNode | undefined {
  const node = ref.node;
  if (node.type === "CallExpression") {
    const first = node.arguments[0];
    if (first !== undefined && first.type !== "SpreadElement" && UNWRAP_FUNCTIONS.has(sourceOf(program, node.callee))) return first;
    if (propertyName(node.callee) === "sort" && node.arguments.length === 0 && node.callee.type === "MemberExpression") return spreadOf(node.callee.object);
    return undefined;
  }
  if (propertyName(node) === "length" && node.type === "MemberExpression" && isRead(ref) && !isCallee(ref)) return node.object.type === "Super" ? undefined : node.object;
  return spreadOf(node);
}

function spreadOf(node: acorn.AnyNode): acorn.AnyNode | undefined {
  if (node.type !== "ArrayExpression" || node.elements.length !== 1) return undefined;
  const only = node.elements[0];
  return only?.type === "SpreadElement" ? only.argument : undefined;
}

function* unwrap(ref: Ref, program: Program): Iterable<Candidate> {
  const inner = unwrapped(ref, program);
  if (inner !== undefined) yield replaceNode("unwrap", ref.node, sourceOf(program, inner));
}

const JUMP_TYPES = new Set(["ReturnStatement", "ThrowStatement", "BreakStatement", "ContinueStatement"]);

/** Statement positions: a statement list, or the single statement of an if or a loop (a label's stays with its label). */
function isStatementPosition(ref: Ref): boolean {
  if (!STATEMENT_TYPES.has(ref.node.type)) return false;
  if (inStatementList(ref)) return true;
  const parent = ref.parent?.node.type ?? "";
  return (parent === "IfStatement" && (ref.key === "consequent" || ref.key === "alternate")) || (LOOP_TYPES.has(parent) && ref.key === "body");
}

function statementEdit(operator: EditOperator, program: Program, node: acorn.AnyNode, range: { start: number; end: number; text: string }, shown: { before: string; after: string; line?: number }): Candidate {
  return { operator, node: node.type, ...range, expression: false, shown: { line: shown.line ?? program.lines.lineOf(node.start), before: firstLine(shown.before), after: firstLine(shown.after) } };
}

/** `break;` or `continue;` after a statement in a loop (a single statement becomes a block with it). */
function* insertJump(ref: Ref, program: Program, operator: "insert_break" | "insert_continue"): Iterable<Candidate> {
  const node = ref.node;
  if (!isStatementPosition(ref) || node.type === "BlockStatement" || JUMP_TYPES.has(node.type) || !insideLoop(ref)) return;
  const jump = operator === "insert_break" ? "break;" : "continue;";
  const separator = inStatementList(ref) ? separatorBefore(program, node) : " ";
  const text = inStatementList(ref) ? `${terminated(program, node)}${separator}${jump}` : `{ ${terminated(program, node)} ${jump} }`;
  yield statementEdit(operator, program, node, { start: node.start, end: node.end, text }, { line: lineAfter(program, node, separator), before: "", after: jump });
}

function* deleteStatement(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (!inStatementList(ref) || node.type === "FunctionDeclaration" || node.type === "ClassDeclaration") return;
  yield statementEdit("delete_statement", program, node, { start: node.start, end: node.end, text: "" }, { before: sourceOf(program, node), after: "" });
}

/** A "use strict"-like prologue line: copied or moved, it would stop being one. */
function isDirective(node: acorn.AnyNode): boolean {
  return node.type === "ExpressionStatement" && node.directive !== undefined;
}

/** Statements a copy or a duplicate may be made of: one short line, declaring nothing, not ending the block, no directive. */
function isCopyable(program: Program, node: acorn.AnyNode): boolean {
  if (JUMP_TYPES.has(node.type) || isDirective(node) || ["VariableDeclaration", "FunctionDeclaration", "ClassDeclaration", "EmptyStatement"].includes(node.type)) return false;
  return node.end - node.start <= MAX_STATEMENT_CHARS && program.lines.lineOf(node.start) === program.lines.lineOf(node.end);
}

/** The line a statement inserted after `node` with this separator lands on. */
function lineAfter(program: Program, node: acorn.Node, separator: string): number {
  return program.lines.lineOf(node.end) + (separator.startsWith("\n") ? 1 : 0);
}

function* duplicateStatement(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (!inStatementList(ref) || !isCopyable(program, node)) return;
  const separator = separatorBefore(program, node);
  const text = `${terminated(program, node)}${separator}${sourceOf(program, node)}`;
  yield statementEdit("duplicate_statement", program, node, { start: node.start, end: node.end, text }, { line: lineAfter(program, node, separator), before: "", after: sourceOf(program, node) });
}

/** Whether a statement stays put: a hoisted function moves nothing, a directive would stop being one. */
function isFixedInPlace(node: acorn.AnyNode): boolean {
  return node.type === "FunctionDeclaration" || isDirective(node);
}

/** Swapped with the statement after it, then with the one before. */
function* moveStatement(ref: Ref, program: Program): Iterable<Candidate> {
  yield* simultaneousAssignment(ref, program);
  yield* swappedBranches(ref, program);
  if (!inStatementList(ref) || isFixedInPlace(ref.node)) return;
  const list = statementList(ref);
  for (const [first, second] of [
    [ref.node, list[ref.index + 1]],
    [list[ref.index - 1], ref.node],
  ] as const) {
    if (first === undefined || second === undefined || isFixedInPlace(first) || isFixedInPlace(second)) continue;
    const text = sourceOf(program, second) + program.code.slice(first.end, second.start) + sourceOf(program, first);
    yield statementEdit("move_statement", program, ref.node, { start: first.start, end: second.end, text }, { line: program.lines.lineOf(first.start), before: sourceOf(program, first), after: sourceOf(program, second) });
  }
}

/** `a = b; b = a % b;` → `[a, b] = [b, a % b];`: two assignments that were meant to happen at once. */
function* simultaneousAssignment(ref: Ref, program: Program): Iterable<Candidate> {
  if (!inStatementList(ref)) return;
  const first = ref.node;
  const second = statementList(ref)[ref.index + 1];
  const targets = [first, second].map((statement) =>
    statement?.type === "ExpressionStatement" && statement.expression.type === "AssignmentExpression" && statement.expression.operator === "=" && statement.expression.left.type === "Identifier" ? statement.expression : undefined,
  );
  const [left, right] = targets;
  if (left === undefined || right === undefined || second === undefined || sourceOf(program, left.left) === sourceOf(program, right.left)) return;
  const text = `[${sourceOf(program, left.left)}, ${sourceOf(program, right.left)}] = [${sourceOf(program, left.right)}, ${sourceOf(program, right.right)}];`;
  yield statementEdit("move_statement", program, first, { start: first.start, end: second.end, text }, { before: sourceOf(program, first), after: text });
}

/** Branches of an `if … else if …` chain, the head first. */
function chainBranches(node: acorn.AnyNode): acorn.IfStatement[] {
  const branches: acorn.IfStatement[] = [];
  let current: acorn.AnyNode | null | undefined = node;
  while (current?.type === "IfStatement" && branches.length < MAX_CHAIN_BRANCHES) {
    branches.push(current);
    current = current.alternate;
  }
  return branches;
}

/** Two branches of an `else if` chain change places, each condition with its body (a case tested after a wider one). */
function* swappedBranches(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (node.type !== "IfStatement" || ref.parent?.node.type === "IfStatement") return;
  const branches = chainBranches(node);
  for (let i = 0; i < branches.length; i++) {
    for (let j = i + 1; j < branches.length; j++) {
      const [upper, lower] = [branches[i] as acorn.IfStatement, branches[j] as acorn.IfStatement];
      const text = replacingParts(program, node, [
        { start: upper.test.start, end: upper.test.end, text: sourceOf(program, lower.test) },
        { start: upper.consequent.start, end: upper.consequent.end, text: sourceOf(program, lower.consequent) },
        { start: lower.test.start, end: lower.test.end, text: sourceOf(program, upper.test) },
        { start: lower.consequent.start, end: lower.consequent.end, text: sourceOf(program, upper.consequent) },
      ]);
      yield statementEdit("move_statement", program, node, { start: node.start, end: node.end, text }, { line: program.lines.lineOf(upper.start), before: `if (${sourceOf(program, upper.test)})`, after: `if (${sourceOf(program, lower.test)})` });
    }
  }
}

/** Other statements of the same function, nearest first, none holding the statement or held by it. */
function copySources(ref: Ref, program: Program): acorn.AnyNode[] {
  const node = ref.node;
  const own = sourceOf(program, node);
  const texts = new Set<string>([own]);
  const sources = ref.scope.statements
    .map((other) => other.node)
    .filter((other) => (other.end <= node.start || other.start >= node.end) && isCopyable(program, other))
    .sort((left, right) => Math.abs(left.start - node.start) - Math.abs(right.start - node.start) || left.start - right.start);
  const chosen: acorn.AnyNode[] = [];
  for (const source of sources) {
    if (chosen.length >= MAX_COPIES) break;
    const text = sourceOf(program, source);
    if (!texts.has(text)) chosen.push(source);
    texts.add(text);
  }
  return chosen;
}

/** Divisors a statement divides by (`a / b`, `a % b`), as the names they are. */
function divisorsIn(node: acorn.AnyNode): string[] {
  const found = new Set<string>();
  for (const current of nodesWithin(node, true)) {
    if (found.size >= MAX_GUARDED_DIVISORS) break;
    if (current.type === "BinaryExpression" && (current.operator === "/" || current.operator === "%") && current.right.type === "Identifier") found.add(current.right.name);
  }
  return [...found];
}

/** `return a / b;` → `if (b === 0) throw new RangeError("division by zero"); return a / b;`: the missing guard of a divisor. */
function* divisorGuard(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  const separator = separatorBefore(program, node);
  for (const divisor of divisorsIn(node)) {
    for (const error of GUARD_ERRORS) {
      const guard = `if (${divisor} === 0) throw new ${error}("division by zero");`;
      yield statementEdit("copy_statement", program, node, { start: node.start, end: node.end, text: `${guard}${separator}${sourceOf(program, node)}` }, { before: "", after: guard });
    }
  }
}

function* copyStatement(ref: Ref, program: Program): Iterable<Candidate> {
  const node = ref.node;
  if (!inStatementList(ref)) return;
  yield* divisorGuard(ref, program);
  const separator = separatorBefore(program, node);
  for (const source of copySources(ref, program)) {
    const copy = sourceOf(program, source);
    const range = { start: node.start, end: node.end };
    // Nothing runs after a return, throw, break or continue of the same block.
    const after = `${terminated(program, node)}${separator}${terminated(program, source)}`;
    if (!JUMP_TYPES.has(node.type)) yield statementEdit("copy_statement", program, node, { ...range, text: after }, { line: lineAfter(program, node, separator), before: "", after: copy });
    const before = `${terminated(program, source)}${separator}${sourceOf(program, node)}`;
    yield statementEdit("copy_statement", program, node, { ...range, text: before }, { before: "", after: copy });
  }
}

/**
 * Every operator's generator, in the order a site's edits come out: cheap,
 * likely edits first (a comparison or a bound is the most common slip in
 * the problem sets), statement-level edits last. Keys in this order are the order.
 */
const GENERATORS: Readonly<Record<EditOperator, Generator>> = {
  comparison,
  off_by_one: offByOne,
  constant,
  binary_operator: binaryOperator,
  boolean_operator: booleanOperator,
  augmented_operator: augmentedOperator,
  negate_condition: negateCondition,
  call: callSibling,
  argument_order: argumentOrder,
  variable,
  return_value: returnValue,
  unwrap,
  wrap,
  insert_break: (ref, program) => insertJump(ref, program, "insert_break"),
  insert_continue: (ref, program) => insertJump(ref, program, "insert_continue"),
  delete_statement: deleteStatement,
  move_statement: moveStatement,
  duplicate_statement: duplicateStatement,
  copy_statement: copyStatement,
};

/** The order edits of one site come out in (GENERATORS' keys). */
export const JAVASCRIPT_EDIT_ORDER = Object.keys(GENERATORS) as EditOperator[];

// ---------------------------------------------------------------------------
// Collecting: checks, duplicates, bounds

/**
 * JavaScript's tokens near enough to count them: names and numbers, string
 * literals, the longest punctuators, one character otherwise. (acorn's
 * tokenizer would cost two more parser set-ups per edit, most of an edit's
 * time on a small program.)
 */
const TOKEN = /#?[\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$\u200c\u200d]*|\.?\d[\w.]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|>>>=?|\.\.\.|\*\*=?|\?\?=?|\?\.|&&=?|\|\|=?|[=!]==?|<<=?|>>=?|=>|\+\+|--|[-+*/%&|^<>]=|\S/gu;

function tokens(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

/** Tokens replaced plus tokens inserted, counting only what differs between the two texts' token lists. */
function changedTokens(before: string, after: string): number {
  const old = tokens(before);
  const fresh = tokens(after);
  let prefix = 0;
  while (prefix < old.length && prefix < fresh.length && old[prefix] === fresh[prefix]) prefix++;
  let suffix = 0;
  while (suffix < old.length - prefix && suffix < fresh.length - prefix && old[old.length - 1 - suffix] === fresh[fresh.length - 1 - suffix]) suffix++;
  return old.length - prefix - suffix + (fresh.length - prefix - suffix);
}

/** The child of `node` that spans [start, end), if one does. */
function childSpanning(node: acorn.AnyNode, start: number, end: number): acorn.AnyNode | undefined {
  for (const value of Object.values(node)) {
    const items: unknown[] = Array.isArray(value) ? value : [value];
    for (const item of items) if (isNode(item) && item.start <= start && end <= item.end) return item;
  }
  return undefined;
}

/** Whether the tree has a node spanning exactly [start, end): the replacement stands as one node. */
function holdsNode(root: acorn.AnyNode, start: number, end: number): boolean {
  for (let node: acorn.AnyNode | undefined = root; node !== undefined; node = childSpanning(node, start, end)) {
    if (node.start === start && node.end === end) return true;
  }
  return false;
}

class Collector {
  readonly edits: Edit[] = [];
  /** Edited programs already returned. */
  private readonly programs = new Set<string>();
  /** Replacements already tried (start:end:text), so one refused is not parsed again. */
  private readonly tried = new Set<string>();
  private bytes = 0;
  private stopped = false;

  constructor(
    private readonly program: Program,
    private readonly limit: number,
    private readonly deadline: number,
  ) {}

  get done(): boolean {
    // The deadline cuts the list short, never to nothing: on a loaded machine indexing alone can use it up.
    if (!this.stopped && this.edits.length > 0 && performance.now() > this.deadline) this.stopped = true;
    return this.stopped || this.edits.length >= this.limit;
  }

  offer(candidate: Candidate): void {
    const before = this.program.code.slice(candidate.start, candidate.end);
    const key = `${candidate.start}:${candidate.end}:${candidate.text}`;
    if (this.done || candidate.text === before || this.tried.has(key)) return;
    this.tried.add(key);
    const placed = this.place(candidate);
    if (placed === undefined || this.programs.has(placed.code)) return;
    const bytes = Buffer.byteLength(placed.code);
    if (this.bytes + bytes > MAX_RETURNED_BYTES) {
      this.stopped = true;
      return;
    }
    this.bytes += bytes;
    this.programs.add(placed.code);
    this.edits.push(this.edit(candidate, before, placed));
  }

  /** The edited program; an expression's replacement in parentheses when only so it parses as one node in its place. */
  private place(candidate: Candidate): { code: string; text: string } | undefined {
    const code = this.program.code;
    const variants = candidate.expression ? [candidate.text, `(${candidate.text})`] : [candidate.text];
    for (const text of variants) {
      const edited = code.slice(0, candidate.start) + text + code.slice(candidate.end);
      const tree = parseAs(edited, this.program.sourceType);
      if (tree === undefined) continue;
      const inner = candidate.start + (text === candidate.text ? 0 : 1);
      if (!candidate.expression || holdsNode(tree, inner, inner + candidate.text.length)) return { code: edited, text };
    }
    return undefined;
  }

  private edit(candidate: Candidate, before: string, placed: { code: string; text: string }): Edit {
    const shown = candidate.shown ?? { line: this.program.lines.lineOf(candidate.start), before, after: placed.text };
    return { line: shown.line, operator: candidate.operator, node: candidate.node, before: shown.before, after: shown.after, code: placed.code, size: changedTokens(before, placed.text) };
  }
}

// ---------------------------------------------------------------------------
// The entry point

function siteLines(request: EditRequest): number[] {
  return [...new Set(request.sites.map((site) => site.line))];
}

/**
 * Edits at the request's sites, in the sites' order (most suspicious first),
 * each site's in JAVASCRIPT_EDIT_ORDER and then source order, at most
 * `limit`. A program that does not parse, or is too large to index, gets none;
 * the list is cut at DEADLINE_MS or MAX_RETURNED_BYTES of edited programs.
 */
export function javascriptEdits(request: EditRequest): Edit[] {
  const deadline = performance.now() + DEADLINE_MS;
  if (request.code.length > MAX_CODE_CHARS || request.limit < 1) return [];
  const lines = siteLines(request);
  const program = indexProgram(request.code, new Set(lines));
  if (program === undefined) return [];
  const collector = new Collector(program, request.limit, deadline);
  for (const line of lines) {
    for (const operator of JAVASCRIPT_EDIT_ORDER) {
      for (const ref of program.atLine.get(line) ?? []) {
        if (collector.done) return collector.edits;
        for (const candidate of GENERATORS[operator](ref, program)) collector.offer(candidate);
      }
    }
  }
  return collector.edits;
}
