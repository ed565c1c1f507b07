/**
 * A hand-written recursive-descent parser for rule expressions (docs/rules.md, "Expressions"). Small
 * on purpose: the grammar is a dozen productions, and a parser of our own gives every error the exact
 * offset in the text, which the loader turns into the file's line and column.
 *
 *   or      := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | compare
 *   compare := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?
 *   sum     := product (('+' | '-') product)*
 *   product := unary (('*' | '/') unary)*
 *   unary   := '-' unary | primary
 *   primary := number | duration | 'true' | 'false' | '(' or ')' | name '(' args ')' | point
 *   point   := name | name ':' name | '`' text '`'
 */
import { FUNCTIONS, type ArithOp, type CompareOp, type Expr, type FunctionName, type Span } from './expression.js';
import { parseDuration } from '../config/units.js';

/** Longest expression text taken: a rule is a line or two; this bounds the parser's recursion too. */
export const MAX_EXPRESSION_CHARS = 4096;
/** Deepest nesting of parentheses, nots and minus signs: the parser recurses once per level. */
const MAX_DEPTH = 64;

export type ParseResult = { ok: true; expr: Expr } | { ok: false; error: ExpressionError };

/** What is wrong and where, as an offset into the expression's text. */
export interface ExpressionError {
  readonly offset: number;
  readonly message: string;
}

type Token =
  | { t: 'num'; value: number; text: string; span: Span }
  | { t: 'dur'; ms: number; span: Span }
  | { t: 'name'; text: string; quoted: boolean; span: Span }
  | { t: 'op'; text: string; span: Span }
  | { t: 'end'; span: Span };

class Failure extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_.]/;
const OPERATORS = ['<=', '>=', '==', '!=', '<', '>', '+', '-', '*', '/', '(', ')', ',', ':'];
/** What people write from other languages, and what to write instead. */
const FOREIGN: Readonly<Record<string, string>> = { '&&': 'and', '||': 'or', '!': 'not', '=': '==', '&': 'and', '|': 'or' };
const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false']);

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      while (i < text.length && /[0-9]/.test(text[i]!)) i++;
      if (text[i] === '.') for (i++; i < text.length && /[0-9]/.test(text[i]!); ) i++;
      if (/[eE]/.test(text[i] ?? '') && /[-+0-9]/.test(text[i + 1] ?? '')) {
        i += /[-+]/.test(text[i + 1]!) ? 2 : 1;
        if (!/[0-9]/.test(text[i] ?? '')) throw new Failure(start, `${text.slice(start, i)} is not a number: digits must follow the exponent`);
        while (i < text.length && /[0-9]/.test(text[i]!)) i++;
      }
      const digits = text.slice(start, i);
      const unit = /^(ms|s|m|h)(?![A-Za-z0-9_])/.exec(text.slice(i));
      if (unit) {
        i += unit[1]!.length;
        const converted = parseDuration(text.slice(start, i));
        if (!converted.ok) throw new Failure(start, `duration ${text.slice(start, i)} must ${converted.reason}`);
        tokens.push({ t: 'dur', ms: converted.value, span: { start, end: i } });
        continue;
      }
      if (NAME_START.test(text[i] ?? '')) {
        let j = i;
        while (j < text.length && /[A-Za-z]/.test(text[j]!)) j++;
        throw new Failure(i, `unknown unit ${text.slice(i, j)} after ${digits}: a duration is written with ms, s, m or h (250ms, 30s, 5m, 1h)`);
      }
      tokens.push({ t: 'num', value: Number(digits), text: digits, span: { start, end: i } });
      continue;
    }
    if (NAME_START.test(c)) {
      while (i < text.length && NAME_PART.test(text[i]!)) i++;
      // A name may not end in a dot: `a.` is a typo, and `1.` is a number, not a name.
      if (text[i - 1] === '.') throw new Failure(i - 1, `a name cannot end with "." (${text.slice(start, i)})`);
      tokens.push({ t: 'name', text: text.slice(start, i), quoted: false, span: { start, end: i } });
      continue;
    }
    if (c === '`') {
      const close = text.indexOf('`', i + 1);
      if (close < 0) throw new Failure(i, 'a point name opened with ` is not closed');
      if (close === i + 1) throw new Failure(i, 'an empty point name ``');
      tokens.push({ t: 'name', text: text.slice(i + 1, close), quoted: true, span: { start, end: close + 1 } });
      i = close + 1;
      continue;
    }
    const two = text.slice(i, i + 2);
    const foreign = FOREIGN[two] !== undefined && !OPERATORS.includes(two) ? two : FOREIGN[c] !== undefined && !OPERATORS.includes(two) ? c : undefined;
    if (foreign !== undefined) throw new Failure(i, `${foreign} is not an operator here: write ${FOREIGN[foreign]}`);
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op === undefined) throw new Failure(i, `unexpected character ${JSON.stringify(c)}`);
    tokens.push({ t: 'op', text: op, span: { start, end: i + op.length } });
    i += op.length;
  }
  tokens.push({ t: 'end', span: { start: text.length, end: text.length } });
  return tokens;
}

class Parser {
  #tokens: Token[];
  #at = 0;
  #depth = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  parse(): Expr {
    const expr = this.#or();
    const next = this.#peek();
    if (next.t !== 'end') throw new Failure(next.span.start, `${describe(next)} after a complete expression${hintAfter(next)}`);
    return expr;
  }

  #peek(): Token {
    return this.#tokens[this.#at]!;
  }

  #take(): Token {
    return this.#tokens[this.#at++]!;
  }

  #isOp(text: string): boolean {
    const t = this.#peek();
    return t.t === 'op' && t.text === text;
  }

  #isWord(word: string): boolean {
    const t = this.#peek();
    return t.t === 'name' && !t.quoted && t.text === word;
  }

  #expectOp(text: string, what: string): Token {
    const t = this.#peek();
    if (t.t !== 'op' || t.text !== text) throw new Failure(t.span.start, `expected ${what}, found ${describe(t)}`);
    return this.#take();
  }

  #deeper<T>(at: number, parse: () => T): T {
    if (++this.#depth > MAX_DEPTH) throw new Failure(at, `nested more than ${MAX_DEPTH} levels deep`);
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }

  #or(): Expr {
    let left = this.#and();
    while (this.#isWord('or')) {
      this.#take();
      const right = this.#and();
      left = { kind: 'logic', op: 'or', left, right, span: join(left.span, right.span) };
    }
    return left;
  }

  #and(): Expr {
    let left = this.#not();
    while (this.#isWord('and')) {
      this.#take();
      const right = this.#not();
      left = { kind: 'logic', op: 'and', left, right, span: join(left.span, right.span) };
    }
    return left;
  }

  #not(): Expr {
    if (this.#isWord('not')) {
      const start = this.#take().span.start;
      const arg = this.#deeper(start, () => this.#not());
      return { kind: 'not', arg, span: { start, end: arg.span.end } };
    }
    return this.#compare();
  }

  #compare(): Expr {
    const left = this.#sum();
    const t = this.#peek();
    if (t.t !== 'op' || !['<', '<=', '>', '>=', '==', '!='].includes(t.text)) return left;
    this.#take();
    const right = this.#sum();
    const after = this.#peek();
    if (after.t === 'op' && ['<', '<=', '>', '>=', '==', '!='].includes(after.text)) {
      throw new Failure(after.span.start, `comparisons do not chain: write a < b and b < c instead of a < b < c`);
    }
    return { kind: 'compare', op: t.text as CompareOp, left, right, span: join(left.span, right.span) };
  }

  #sum(): Expr {
    let left = this.#product();
    while (this.#isOp('+') || this.#isOp('-')) {
      const op = this.#take() as { text: ArithOp };
      const right = this.#product();
      left = { kind: 'arith', op: op.text, left, right, span: join(left.span, right.span) };
    }
    return left;
  }

  #product(): Expr {
    let left = this.#unary();
    while (this.#isOp('*') || this.#isOp('/')) {
      const op = this.#take() as { text: ArithOp };
      const right = this.#unary();
      left = { kind: 'arith', op: op.text, left, right, span: join(left.span, right.span) };
    }
    return left;
  }

  #unary(): Expr {
    if (this.#isOp('-')) {
      const start = this.#take().span.start;
      const arg = this.#deeper(start, () => this.#unary());
      return { kind: 'neg', arg, span: { start, end: arg.span.end } };
    }
    return this.#primary();
  }

  #primary(): Expr {
    const t = this.#take();
    switch (t.t) {
      case 'num':
        return { kind: 'number', value: t.value, span: t.span };
      case 'dur':
        return { kind: 'duration', ms: t.ms, span: t.span };
      case 'op':
        if (t.text === '(') {
          const inner = this.#deeper(t.span.start, () => this.#or());
          const close = this.#expectOp(')', `) to close the ( at offset ${t.span.start}`);
          return { ...inner, span: { start: t.span.start, end: close.span.end } } as Expr;
        }
        throw new Failure(t.span.start, `expected a value, a point or (, found ${describe(t)}`);
      case 'end':
        throw new Failure(t.span.start, 'the expression ends where a value, a point or ( was expected');
      case 'name':
        return this.#named(t);
    }
  }

  #named(t: Extract<Token, { t: 'name' }>): Expr {
    if (!t.quoted) {
      if (t.text === 'true' || t.text === 'false') return { kind: 'bool', value: t.text === 'true', span: t.span };
      if (KEYWORDS.has(t.text)) throw new Failure(t.span.start, `${t.text} needs something on its left`);
      if (this.#isOp('(')) return this.#call(t);
    }
    if (this.#isOp(':')) {
      this.#take();
      const point = this.#take();
      if (point.t !== 'name') throw new Failure(point.span.start, `expected a point name after ${t.text}:, found ${describe(point)}`);
      return { kind: 'point', device: t.text, name: point.text, span: join(t.span, point.span) };
    }
    // `device:point` in one pair of backquotes, for names with characters a bare name cannot hold.
    const colon = t.quoted ? t.text.indexOf(':') : -1;
    if (colon >= 0) return { kind: 'point', device: t.text.slice(0, colon), name: t.text.slice(colon + 1), span: t.span };
    return { kind: 'point', device: null, name: t.text, span: t.span };
  }

  #call(name: Extract<Token, { t: 'name' }>): Expr {
    if (!Object.hasOwn(FUNCTIONS, name.text)) {
      throw new Failure(name.span.start, `unknown function ${name.text}(); known: ${Object.keys(FUNCTIONS).join(', ')}`);
    }
    this.#take(); // (
    const args: Expr[] = [];
    if (!this.#isOp(')')) {
      do {
        if (args.length > 0) this.#take(); // ,
        args.push(this.#deeper(name.span.start, () => this.#or()));
      } while (this.#isOp(','));
    }
    const close = this.#expectOp(')', `, or ) in the arguments of ${name.text}()`);
    return { kind: 'call', fn: name.text as FunctionName, args, span: { start: name.span.start, end: close.span.end } };
  }
}

function join(a: Span, b: Span): Span {
  return { start: a.start, end: b.end };
}

function describe(t: Token): string {
  switch (t.t) {
    case 'num': return `the number ${t.text}`;
    case 'dur': return 'a duration';
    case 'name': return KEYWORDS.has(t.text) && !t.quoted ? `"${t.text}"` : `the name ${t.text}`;
    case 'op': return `"${t.text}"`;
    case 'end': return 'the end';
  }
}

function hintAfter(t: Token): string {
  if (t.t === 'name' && !t.quoted && !KEYWORDS.has(t.text)) return ' (an operator is missing between them, or a point name holds a character that needs `backquotes`)';
  if (t.t === 'op' && t.text === ')') return ' (a ) without its ()';
  return '';
}

/** Parses `text`; never throws for what is written, only returns where it is wrong. */
export function parseExpression(text: string): ParseResult {
  if (text.length > MAX_EXPRESSION_CHARS) return { ok: false, error: { offset: 0, message: `an expression of ${text.length} characters; at most ${MAX_EXPRESSION_CHARS}` } };
  try {
    return { ok: true, expr: new Parser(lex(text)).parse() };
  } catch (err) {
    if (err instanceof Failure) return { ok: false, error: { offset: err.offset, message: err.message } };
    throw err;
  }
}
