/**
 * The rule expression language as a tree (docs/rules.md). The parser builds it with the position of
 * every node in the expression's text; the checks resolve point references to point ids and give each
 * node its type; the reference evaluator and the compiler both read the checked tree, nothing else.
 */

/** Offsets into the expression's text, start inclusive, end exclusive. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type ArithOp = '+' | '-' | '*' | '/';
/** Quality tests of a point's latest sample (ABI quality codes 0 to 3). */
export const QUALITY_TESTS = { good: 0, suspect: 1, bad: 2, no_comm: 3 } as const;
export type QualityTest = keyof typeof QUALITY_TESTS;
/** Every function the language knows, with what it takes. */
export const FUNCTIONS = {
  good: 'a point',
  suspect: 'a point',
  bad: 'a point',
  no_comm: 'a point',
  stale: 'a point and a duration',
  rate: 'a point and a duration',
  count: 'a condition and a duration',
  abs: 'a number',
  min: 'two or more numbers',
  max: 'two or more numbers',
} as const;
export type FunctionName = keyof typeof FUNCTIONS;

/** What the parser produces: point references by name, as written. */
export type Expr =
  | { readonly kind: 'number'; readonly value: number; readonly span: Span }
  | { readonly kind: 'bool'; readonly value: boolean; readonly span: Span }
  | { readonly kind: 'duration'; readonly ms: number; readonly span: Span }
  /** `device` is set when written `device:point`. */
  | { readonly kind: 'point'; readonly name: string; readonly device: string | null; readonly span: Span }
  | { readonly kind: 'neg'; readonly arg: Expr; readonly span: Span }
  | { readonly kind: 'not'; readonly arg: Expr; readonly span: Span }
  | { readonly kind: 'arith'; readonly op: ArithOp; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly kind: 'logic'; readonly op: 'and' | 'or'; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly kind: 'call'; readonly fn: FunctionName; readonly args: readonly Expr[]; readonly span: Span };

/**
 * The checked tree, as the evaluators take it: plain data (it crosses to the worker by structured
 * clone). Points are ids; windows and counted conditions are indexes into the rule set's tables.
 */
export type Checked =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  /** The latest usable value (good or suspect) of the point; NaN before one arrived. */
  | { readonly kind: 'value'; readonly point: number }
  /** A bool point as a condition: its latest usable value is 1. */
  | { readonly kind: 'truthy'; readonly point: number }
  | { readonly kind: 'quality'; readonly point: number; readonly quality: number }
  | { readonly kind: 'stale'; readonly point: number; readonly ms: number }
  /** Index into RuleSet.windows. */
  | { readonly kind: 'rate'; readonly window: number }
  /** Index into RuleSet.counters. */
  | { readonly kind: 'count'; readonly counter: number }
  | { readonly kind: 'neg'; readonly arg: Checked }
  | { readonly kind: 'not'; readonly arg: Checked }
  | { readonly kind: 'abs'; readonly arg: Checked }
  | { readonly kind: 'minmax'; readonly op: 'min' | 'max'; readonly args: readonly Checked[] }
  | { readonly kind: 'arith'; readonly op: ArithOp; readonly left: Checked; readonly right: Checked }
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly left: Checked; readonly right: Checked }
  | { readonly kind: 'logic'; readonly op: 'and' | 'or'; readonly left: Checked; readonly right: Checked };

/** Every point a checked expression reads, directly (not through a counter's condition). */
export function pointsOf(expr: Checked, into: Set<number> = new Set()): Set<number> {
  switch (expr.kind) {
    case 'value': case 'truthy': case 'quality': case 'stale':
      into.add(expr.point);
      break;
    case 'neg': case 'not': case 'abs':
      pointsOf(expr.arg, into);
      break;
    case 'minmax':
      for (const a of expr.args) pointsOf(a, into);
      break;
    case 'arith': case 'compare': case 'logic':
      pointsOf(expr.left, into);
      pointsOf(expr.right, into);
      break;
    default:
      break;
  }
  return into;
}
