/**
 * How much a YAML document's aliases add once it is turned into data. Nine lines of nested aliases
 * expand to a billion values ("billion laughs"), so the expansion is counted on the parsed tree, whose
 * size the text bounds, and a file that expands past the limit is refused at the alias that crossed it.
 * The number of aliases is bounded too: yaml resolves each alias by scanning the aliases and anchors
 * before it, so their count costs time squared.
 */
import { isAlias, isMap, isPair, isSeq, type Document, type Node } from 'yaml';

/**
 * Values aliases may add to one file. Anchoring a device block of 50 values and reusing it for 200
 * devices stays below it; an alias bomb does not.
 */
export const MAX_ALIAS_EXPANSION = 100_000;
/** Aliases one file may hold. */
export const MAX_ALIASES = 1_000;

export type AliasVerdict = { ok: true; added: number } | { ok: false; offset: number; detail: string };

/** Refuses at the alias (its text offset) that passes a limit or refers to the node it sits in. */
export function checkAliases(doc: Document.Parsed): AliasVerdict {
  const anchors = new Map<string, unknown>();
  const sizes = new Map<unknown, number>();
  const inProgress = new Set<unknown>();
  let added = 0;
  let aliases = 0;

  // Values `node` stands for once every alias in it is resolved; Infinity for an alias cycle.
  const sizeOf = (node: unknown): number => {
    if (isAlias(node)) return sizeOf(anchors.get(node.source));
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (inProgress.has(node)) return Infinity;
    inProgress.add(node);
    let size = 1;
    for (const child of childrenOf(node)) {
      size += sizeOf(child);
      if (size > MAX_ALIAS_EXPANSION) break; // no need to count a bomb to the end
    }
    inProgress.delete(node);
    sizes.set(node, size);
    return size;
  };

  // Document order, as yaml resolves an alias to the latest anchor of its name before it, and so
  // that the alias reported is the first one past a limit as the operator reads the file.
  const walk = (node: unknown): AliasVerdict | undefined => {
    if (isAlias(node)) {
      const offset = node.range?.[0] ?? 0;
      if (++aliases > MAX_ALIASES) return { ok: false, offset, detail: `more than ${MAX_ALIASES} aliases in one file` };
      const size = sizeOf(node);
      if (size === Infinity) return { ok: false, offset, detail: `alias *${node.source} is inside the node it refers to` };
      added += size;
      if (added > MAX_ALIAS_EXPANSION) return { ok: false, offset, detail: `aliases up to here expand the file by more than ${MAX_ALIAS_EXPANSION} values` };
      return undefined;
    }
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor !== undefined) anchors.set(anchor, node);
    for (const child of childrenOf(node)) {
      const refused = walk(child);
      if (refused) return refused;
    }
    return undefined;
  };

  return walk(doc.contents) ?? { ok: true, added };
}

function childrenOf(node: unknown): unknown[] {
  if (isMap(node)) return node.items.flatMap((pair) => (isPair(pair) ? [pair.key, pair.value].filter((n) => n !== null) : []));
  if (isSeq(node)) return node.items as Node[];
  return [];
}
