/**
 * The asc transform behind the SDK's `utf8("...")` (plugins/sdk/utf8.ts): each call's string literal
 * becomes static data, a u16 byte count (little-endian) then the text's UTF-8 bytes, and the call
 * receives that data's address. An AssemblyScript string literal is UTF-16 with a 20-byte header, so
 * the mostly-ASCII texts a plugin logs cost half as much or less this way, and the ABI's `log` takes
 * UTF-8 as it is (docs/plugin-abi.md, `log`): nothing is converted at run time.
 *
 * It runs after parsing, on the syntax tree: only a call whose callee is the plain identifier `utf8`
 * and whose one argument is a string literal is rewritten, to `utf8(wasmgate_utf8_texts + offset)`,
 * where that constant, added to the file, is the static block of the file's texts (TextPool). Anything
 * else (`utf8(name)`) is left as written, and the SDK's utf8() then stops the build with a compile
 * error that says why.
 */

/** The literal's bytes as the SDK's Utf8 reads them: u16 byte count, little-endian, then the bytes. */
export function utf8Data(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > 0xffff) throw new Error(`utf8(): a text of ${bytes.length} bytes is over the 65535 a u16 count holds`);
  const data = new Uint8Array(2 + bytes.length);
  data[0] = bytes.length & 0xff;
  data[1] = bytes.length >> 8;
  data.set(bytes, 2);
  return data;
}

// The parts of the compiler's AST used here. Its own typings redeclare globals (console), so they stay
// out, as in build.ts.
interface AstNode {
  kind: number;
  range: unknown;
}
interface CallNode extends AstNode {
  expression: AstNode & { text?: string };
  typeArguments: AstNode[] | null;
  args: (AstNode & { literalKind?: number; value?: string })[];
}
interface AscAst {
  NodeKind: { Call: number; Identifier: number; Literal: number };
  LiteralKind: { String: number };
  Token: { Plus: number };
  CommonFlags: { Const: number };
  Node: {
    createIdentifierExpression(text: string, range: unknown): AstNode;
    createPropertyAccessExpression(expression: AstNode, property: AstNode, range: unknown): AstNode;
    createSimpleTypeName(name: string, range: unknown): AstNode;
    createNamedType(name: AstNode, typeArguments: null, isNullable: boolean, range: unknown): AstNode;
    createArrayLiteralExpression(elements: AstNode[], range: unknown): AstNode;
    createIntegerLiteralExpression(value: unknown, range: unknown): AstNode;
    createCallExpression(expression: AstNode, typeArguments: AstNode[] | null, args: AstNode[], range: unknown): AstNode;
    createBinaryExpression(operator: number, left: AstNode, right: AstNode, range: unknown): AstNode;
    createVariableDeclaration(name: AstNode, decorators: AstNode[], flags: number, type: null, initializer: AstNode, range: unknown): AstNode;
    createVariableStatement(decorators: null, declarations: AstNode[], range: unknown): AstNode;
    createDecorator(name: AstNode, args: null, range: unknown): AstNode;
  };
}
/** The compiler's 64-bit integer constructor (its glue code puts it on the global object). */
declare const i64_new: (low: number, high?: number) => unknown;

/** `memory.data<u8>([bytes...], 1)`: static bytes, unaligned, so that texts pack without gaps. */
function staticBytes(ast: AscAst, bytes: number[], range: unknown): AstNode {
  const { Node } = ast;
  const memoryData = Node.createPropertyAccessExpression(
    Node.createIdentifierExpression('memory', range), Node.createIdentifierExpression('data', range), range);
  const u8 = Node.createNamedType(Node.createSimpleTypeName('u8', range), null, false, range);
  const values = bytes.map((b) => Node.createIntegerLiteralExpression(i64_new(b), range));
  return Node.createCallExpression(memoryData, [u8], [
    Node.createArrayLiteralExpression(values, range),
    Node.createIntegerLiteralExpression(i64_new(1), range),
  ], range);
}

/**
 * The texts of one source file, laid end to end in one static block: one data segment per file
 * rather than per text (a segment costs about 6 bytes of module), and a text written twice is there once.
 */
class TextPool {
  readonly bytes: number[] = [];
  readonly #offsets = new Map<string, number>();

  offsetOf(text: string): number {
    let offset = this.#offsets.get(text);
    if (offset === undefined) {
      offset = this.bytes.length;
      this.bytes.push(...utf8Data(text));
      this.#offsets.set(text, offset);
    }
    return offset;
  }
}

/** The name of the pool's constant in each source file that has texts. */
const POOL = 'wasmgate_utf8_texts';

/** Rewrites every `utf8("literal")` under `node` into `utf8(POOL + offset)`. */
function rewrite(ast: AscAst, node: unknown, pool: TextPool, seen: Set<object>): void {
  if (node === null || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const child of node) rewrite(ast, child, pool, seen);
    return;
  }
  const n = node as AstNode;
  if (n.kind === ast.NodeKind.Call) {
    const call = n as CallNode;
    const arg = call.args.length === 1 ? call.args[0]! : undefined;
    if (call.expression.kind === ast.NodeKind.Identifier && call.expression.text === 'utf8' && call.typeArguments === null &&
      arg?.kind === ast.NodeKind.Literal && arg.literalKind === ast.LiteralKind.String) {
      const { Node } = ast;
      const offset = Node.createIntegerLiteralExpression(i64_new(pool.offsetOf(arg.value!)), arg.range);
      call.args = [Node.createBinaryExpression(ast.Token.Plus, Node.createIdentifierExpression(POOL, arg.range), offset, arg.range)];
      return;
    }
  }
  // Children are wherever a node keeps them; ranges point back at their source, so they are skipped.
  for (const [key, value] of Object.entries(n)) if (key !== 'range') rewrite(ast, value, pool, seen);
}

/** The transform object asc.main takes in its `transforms` option. */
export async function utf8LiteralsTransform(): Promise<{ afterParse(parser: { sources: unknown[] }): void }> {
  const ast = (await import(ASC_COMPILER)) as AscAst;
  const { Node } = ast;
  return {
    afterParse(parser) {
      const seen = new Set<object>();
      for (const source of parser.sources as (AstNode & { statements: AstNode[] })[]) {
        const pool = new TextPool();
        rewrite(ast, source.statements, pool, seen);
        if (pool.bytes.length === 0) continue;
        // @lazy const POOL = memory.data<u8>([...], 1); first in the file, so that top-level constants
        // may use its texts; lazy, so that a file imported but not used adds no bytes.
        const range = source.range;
        const lazy = Node.createDecorator(Node.createIdentifierExpression('lazy', range), null, range);
        const declaration = Node.createVariableDeclaration(Node.createIdentifierExpression(POOL, range), [lazy], ast.CommonFlags.Const,
          null, staticBytes(ast, pool.bytes, range), range);
        source.statements.unshift(Node.createVariableStatement(null, [declaration], range));
      }
    },
  };
}
const ASC_COMPILER: string = 'assemblyscript';
