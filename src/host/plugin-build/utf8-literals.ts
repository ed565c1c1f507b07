/**
 * The asc transform behind the SDK's `utf8("...")` (plugins/sdk/utf8.ts): each call's string literal
 * becomes static data, a u16 byte count (little-endian) then the text's UTF-8 bytes, and the call
 * receives that data's address. An AssemblyScript string literal is UTF-16 with a 20-byte header, so
 * the mostly-ASCII texts a plugin logs cost half as much or less this way, and the ABI's `log` takes
 * UTF-8 as it is (docs/plugin-abi.md, `log`): nothing is converted at run time.
 *
 * It runs after parsing, on the syntax tree: only a call whose callee is the plain identifier `utf8`
 * and whose one argument is a string literal is rewritten. Anything else (`utf8(name)`) is left as
 * written, and the SDK's utf8() then stops the build with a compile error that says why.
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
  Node: {
    createIdentifierExpression(text: string, range: unknown): AstNode;
    createPropertyAccessExpression(expression: AstNode, property: AstNode, range: unknown): AstNode;
    createSimpleTypeName(name: string, range: unknown): AstNode;
    createNamedType(name: AstNode, typeArguments: null, isNullable: boolean, range: unknown): AstNode;
    createArrayLiteralExpression(elements: AstNode[], range: unknown): AstNode;
    createIntegerLiteralExpression(value: unknown, range: unknown): AstNode;
    createCallExpression(expression: AstNode, typeArguments: AstNode[] | null, args: AstNode[], range: unknown): AstNode;
  };
}
/** The compiler's 64-bit integer constructor (its glue code puts it on the global object). */
declare const i64_new: (low: number, high?: number) => unknown;

/** `memory.data<u8>([bytes...], 1)`: static bytes, unaligned, so that texts pack without gaps. */
function staticBytes(ast: AscAst, bytes: Uint8Array, range: unknown): AstNode {
  const { Node } = ast;
  const memoryData = Node.createPropertyAccessExpression(
    Node.createIdentifierExpression('memory', range), Node.createIdentifierExpression('data', range), range);
  const u8 = Node.createNamedType(Node.createSimpleTypeName('u8', range), null, false, range);
  const values = [...bytes].map((b) => Node.createIntegerLiteralExpression(i64_new(b), range));
  return Node.createCallExpression(memoryData, [u8], [
    Node.createArrayLiteralExpression(values, range),
    Node.createIntegerLiteralExpression(i64_new(1), range),
  ], range);
}

/** Rewrites every `utf8("literal")` under `node`; returns how many. */
function rewrite(ast: AscAst, node: unknown, seen: Set<object>): number {
  if (node === null || typeof node !== 'object' || seen.has(node)) return 0;
  seen.add(node);
  if (Array.isArray(node)) return node.reduce((n: number, child) => n + rewrite(ast, child, seen), 0);
  let count = 0;
  const n = node as AstNode;
  if (n.kind === ast.NodeKind.Call) {
    const call = n as CallNode;
    const arg = call.args.length === 1 ? call.args[0]! : undefined;
    if (call.expression.kind === ast.NodeKind.Identifier && call.expression.text === 'utf8' && call.typeArguments === null &&
      arg?.kind === ast.NodeKind.Literal && arg.literalKind === ast.LiteralKind.String) {
      call.args = [staticBytes(ast, utf8Data(arg.value!), arg.range)];
      return 1;
    }
  }
  // Children are wherever a node keeps them; ranges point back at their source, so they are skipped.
  for (const [key, value] of Object.entries(n)) if (key !== 'range') count += rewrite(ast, value, seen);
  return count;
}

/** The transform object asc.main takes in its `transforms` option. */
export async function utf8LiteralsTransform(): Promise<{ afterParse(parser: { sources: unknown[] }): void }> {
  const ast = (await import(ASC_COMPILER)) as AscAst;
  return {
    afterParse(parser) {
      const seen = new Set<object>();
      for (const source of parser.sources) rewrite(ast, source, seen);
    },
  };
}
const ASC_COMPILER: string = 'assemblyscript';
