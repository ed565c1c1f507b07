/**
 * Reading a Markdown document the way a test that keeps it true needs it: fenced code blocks announced
 * by an HTML comment on the line just before (`<!-- file: plugins/x/x.ts -->`, `<!-- output: validate -->`),
 * the command lines of its `sh` blocks, and the `wasmgate` command lines it quotes anywhere.
 */

/** One fenced block announced by `<!-- kind: name -->`. */
export interface MarkedBlock {
  kind: string;
  name: string;
  /** The fence's info string (`ts`, `yaml`, `text`...). */
  lang: string;
  /** The block's content, ending with a newline. */
  text: string;
}

const MARKED_BLOCK = /^<!-- (\w+): (.+?) -->\n```(\w*)\n([\s\S]*?)^```$/gm;

export function markedBlocks(markdown: string): MarkedBlock[] {
  return [...markdown.matchAll(MARKED_BLOCK)].map((m) => ({ kind: m[1]!, name: m[2]!, lang: m[3]!, text: m[4]! }));
}

/** The blocks marked `<!-- kind: name -->`, by name; a name given twice is an error in the document. */
export function blocksOfKind(markdown: string, kind: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of markedBlocks(markdown)) {
    if (block.kind !== kind) continue;
    if (out.has(block.name)) throw new Error(`two blocks marked "${kind}: ${block.name}"`);
    out.set(block.name, block.text);
  }
  return out;
}

/** Every non-empty line of the `sh` blocks, with `# comments` removed. */
export function shellLines(markdown: string): string[] {
  const lines: string[] = [];
  for (const m of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const raw of m[1]!.split('\n')) {
      const line = raw.replace(/(^|\s)#.*$/, '').trim();
      if (line) lines.push(line);
    }
  }
  return lines;
}

/** Inline code spans of the prose (fenced blocks left out). */
export function inlineCode(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```$/gm, '');
  return [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
}

/** An invocation of the wasmgate CLI: the line as written, and the arguments after the program. */
export interface WasmgateCommand {
  line: string;
  args: string[];
}

/** `npx wasmgate ARGS`, `node /x/bin/wasmgate.js ARGS` or `wasmgate ARGS` (a bare name is not a command). */
const INVOCATION = /^(?:npx |node \S*\/)?wasmgate(?:\.js)? /;

/** The wasmgate command on `line`, or undefined when the line runs something else. */
export function wasmgateCommand(line: string): WasmgateCommand | undefined {
  if (!INVOCATION.test(line)) return undefined;
  return { line, args: line.replace(INVOCATION, '').split(/\s+/).filter(Boolean) };
}
