// Patching YAML text in place: an edit replaces only the characters it must, so every
// comment, blank line, quote style and key order elsewhere stays exactly as written.
// (Re-serialising the whole Document would re-indent sequences and move comments.)
//
// The yaml package's Document gives each node its offsets in the text; the functions
// here turn "set this value", "insert this list item", "remove that item" into splices.

import {
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  stringify,
  type Document,
  type Node as YamlNode,
  type Pair,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";

export type Path = (string | number)[];

export class EditError extends Error {}

export function parse(text: string): Document {
  return parseDocument(text, { uniqueKeys: false });
}

// --- lines and columns -----------------------------------------------------------------

export function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** The offset just after the newline ending the line of ``offset`` (or the text's end). */
export function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf("\n", offset);
  return newline < 0 ? text.length : newline + 1;
}

export function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

export function splice(text: string, from: number, to: number, insert: string): string {
  return text.slice(0, from) + insert + text.slice(to);
}

/** Insert whole lines (``lines`` ends with a newline) at a line start ``at``. A text
 * without a final newline keeps having none, so that removing the lines again gives
 * back the very same text. */
function insertLines(text: string, at: number, lines: string): string {
  if (at >= text.length && text.length > 0 && !text.endsWith("\n")) {
    return text + "\n" + lines.replace(/\n$/, "");
  }
  return splice(text, at, at, lines);
}

/** Remove whole lines [start, end); the mirror of ``insertLines`` at the text's end. */
function removeLines(text: string, start: number, end: number): string {
  if (end >= text.length && start > 0 && !text.endsWith("\n")) return text.slice(0, start - 1);
  return splice(text, start, end, "");
}

/** Shift every non-blank line of ``block`` right (or left) by ``delta`` columns. */
export function reindent(block: string, delta: number): string {
  if (delta === 0) return block;
  return block
    .split("\n")
    .map((line) => {
      if (!line.trim()) return line;
      if (delta > 0) return " ".repeat(delta) + line;
      const strip = Math.min(-delta, line.length - line.trimStart().length);
      return line.slice(strip);
    })
    .join("\n");
}

// --- rendering new values ----------------------------------------------------------------

const STYLE = { indent: 2, lineWidth: 0, indentSeq: true } as const;

function isPlainObject(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}

/** ``value`` as block YAML whose lines start at ``column``, ending with a newline. */
export function renderBlock(value: unknown, column: number): string {
  return reindent(stringify(value, STYLE), column);
}

/** A flow rendering on one line: scalars, and collections in `{ }` / `[ ]`. */
export function renderFlow(value: unknown): string {
  return stringify(value, { ...STYLE, collectionStyle: "flow" }).trimEnd();
}

/** A list item "- name: ..." with its dash at ``column``. */
export function renderItem(value: unknown, column: number): string {
  const lines = stringify(value, STYLE).trimEnd().split("\n");
  const first = " ".repeat(column) + "- " + lines[0];
  const rest = lines.slice(1).map((line) => (line ? " ".repeat(column + 2) + line : line));
  return [first, ...rest].join("\n") + "\n";
}

// --- where things are ---------------------------------------------------------------------

export function nodeAt(doc: Document, path: Path): YamlNode | null {
  if (path.length === 0) return (doc.contents as YamlNode) ?? null;
  return (doc.getIn(path, true) as YamlNode | undefined) ?? null;
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key) as Pair | undefined;
}

/** Is this collection written in flow style (`{...}` / `[...]`)? */
function isFlow(node: YamlNode): boolean {
  return isCollection(node) && (node.flow === true || /^[[{]/.test(sourceOf(node)));
}

let currentText = "";
function sourceOf(node: YamlNode): string {
  const range = node.range;
  return range ? currentText.slice(range[0], range[1]).trimStart() : "";
}

/** The text blocks of a block sequence's items: [start, end) each, where start is the
 * line of its dash (with the comment lines right above it) and end is where the next
 * item's block starts (for the last: the end of its last line). */
export function itemBlocks(text: string, seq: YAMLSeq): { start: number; end: number; dash: number; column: number }[] {
  const dashes = seq.items.map((item) => {
    const start = (item as YamlNode).range?.[0] ?? 0;
    const dash = text.lastIndexOf("-", start);
    return { dash, column: columnOf(text, dash) };
  });
  const starts = dashes.map(({ dash, column }) => {
    let start = lineStart(text, dash);
    // Own comment lines above the dash, at its column, travel with the item.
    for (;;) {
      if (start === 0) break;
      const previous = lineStart(text, start - 1);
      const line = text.slice(previous, start - 1);
      if (!(line.trim().startsWith("#") && columnOf(text, previous + line.indexOf("#")) === column)) break;
      start = previous;
    }
    return start;
  });
  return dashes.map(({ dash, column }, index) => {
    const last = seq.items[index] as YamlNode;
    const end =
      index + 1 < starts.length ? starts[index + 1] : contentEnd(text, last.range?.[2] ?? last.range?.[1] ?? dash);
    return { start: starts[index], end, dash, column };
  });
}

/** The end of the last line that holds content at or before ``offset``. */
function contentEnd(text: string, offset: number): number {
  let end = offset;
  while (end > 0 && /\s/.test(text[end - 1])) end--;
  return lineEnd(text, end);
}

// --- edits ---------------------------------------------------------------------------------

/** Set the value at ``path`` (creating the key if its map lacks it); undefined removes it. */
export function setAt(text: string, path: Path, value: unknown): string {
  currentText = text;
  const doc = parse(text);
  const parentPath = path.slice(0, -1);
  const key = path[path.length - 1];
  const parent = nodeAt(doc, parentPath);
  if (isSeq(parent) && typeof key === "number") {
    if (value === undefined) return removeItem(text, parentPath, key);
    const item = parent.items[key] as YamlNode;
    return replaceNode(text, item, value, columnOf(text, item.range![0]), false);
  }
  if (!isMap(parent)) {
    if (value === undefined) return text;
    if (parentPath.length === 0) throw new EditError("the document is not a mapping");
    return setAt(text, parentPath, { [String(key)]: value });
  }
  if (isFlow(parent)) return rewriteFlow(text, parent, (json) => assign(json, String(key), value));
  const pair = pairOf(parent, String(key));
  if (!pair) {
    if (value === undefined) return text;
    return insertPair(text, parent, String(key), value);
  }
  if (value === undefined) return removePair(text, parent, pair);
  return replacePairValue(text, pair, value);
}

function assign(json: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...json };
  if (value === undefined) delete copy[key];
  else copy[key] = value;
  return copy;
}

function rewriteFlow(text: string, node: YAMLMap, change: (json: Record<string, unknown>) => unknown): string {
  const [start, end] = node.range!;
  return splice(text, start, end, renderFlow(change(node.toJSON() as Record<string, unknown>)));
}

function keyColumn(text: string, pair: Pair): number {
  return columnOf(text, (pair.key as YamlNode).range![0]);
}

function insertPair(text: string, map: YAMLMap, key: string, value: unknown): string {
  const last = map.items[map.items.length - 1] as Pair | undefined;
  if (!last) {
    const [start, end] = map.range!;
    return splice(text, start, end, renderFlow({ [key]: value }));
  }
  const column = keyColumn(text, last);
  const lastEnd = (last.value as YamlNode | null)?.range?.[2] ?? (last.key as YamlNode).range![2];
  return insertLines(text, contentEnd(text, lastEnd), renderBlock({ [key]: value }, column));
}

function removePair(text: string, map: YAMLMap, pair: Pair): string {
  const index = map.items.indexOf(pair);
  const start = lineStart(text, (pair.key as YamlNode).range![0]);
  const next = map.items[index + 1] as Pair | undefined;
  const end = next
    ? lineStart(text, (next.key as YamlNode).range![0])
    : contentEnd(text, (pair.value as YamlNode | null)?.range?.[2] ?? (pair.key as YamlNode).range![2]);
  if (map.items.length === 1) return splice(text, map.range![0], map.range![1], "{}");
  return removeLines(text, start, end);
}

function replacePairValue(text: string, pair: Pair, value: unknown): string {
  const node = pair.value as YamlNode | null;
  const keyEnd = (pair.key as YamlNode).range![1];
  const colon = text.indexOf(":", keyEnd);
  return replaceNode(text, node, value, keyColumn(text, pair) + 2, true, colon + 1);
}

/** Replace ``node``'s text by ``value``: on the same line if it is a scalar or flow
 * collection, else as a block below its key (at ``column``). */
function replaceNode(
  text: string,
  node: YamlNode | null,
  value: unknown,
  column: number,
  afterKey: boolean,
  valueStart?: number,
): string {
  const [start, end] = node?.range ?? [valueStart!, valueStart!];
  // An empty `[]` or `{}` that receives content becomes a block, as a person would write it.
  const flowWithContent = node !== null && isFlow(node) && !(isCollection(node) && node.items.length === 0);
  const inline = !isPlainObject(value) || flowWithContent || isEmptyCollection(value);
  if (inline) {
    const rendered = renderFlow(value);
    const from = node?.range ? start : valueStart!;
    const padding = node?.range ? "" : " ";
    return splice(text, from, node?.range ? end : from, padding + rendered);
  }
  if (!afterKey) return splice(text, start, contentEnd(text, node?.range?.[2] ?? end), renderBlock(value, column).trimStart());
  const from = valueStart!;
  const to = node?.range ? contentEnd(text, node.range[2]) : lineEnd(text, from);
  const trailing = node && !isCollection(node) ? commentAfter(text, node) : "";
  return splice(text, from, to, trailing + "\n" + renderBlock(value, column));
}

function commentAfter(text: string, node: YamlNode): string {
  const end = node.range![1];
  const rest = text.slice(end, lineEnd(text, end)).replace(/\n$/, "");
  return rest.trim().startsWith("#") ? rest : "";
}

function isEmptyCollection(value: unknown): boolean {
  return isPlainObject(value) && Object.keys(value as object).length === 0;
}

// --- list items ------------------------------------------------------------------------------

/** Insert ``itemText`` (a block "- name: ..." written at column ``fromColumn``) as item
 * ``index`` of the sequence at ``path``. */
export function insertItemText(text: string, path: Path, index: number, itemText: string, fromColumn: number): string {
  currentText = text;
  const doc = parse(text);
  const seq = nodeAt(doc, path);
  if (!isSeq(seq) || seq.items.length === 0 || isFlow(seq)) {
    const existing = isSeq(seq) ? (seq.toJSON() as unknown[]) : [];
    const item = parse(reindent(itemText, -fromColumn)).toJSON() as unknown[];
    const items = [...existing.slice(0, index), ...item, ...existing.slice(index)];
    return setAt(text, path, items);
  }
  const blocks = itemBlocks(text, seq);
  const column = blocks[0].column;
  const at = index < blocks.length ? blocks[index].start : blocks[blocks.length - 1].end;
  const body = reindent(itemText.endsWith("\n") ? itemText : itemText + "\n", column - fromColumn);
  return insertLines(text, at, body);
}

export function insertItem(text: string, path: Path, index: number, value: unknown): string {
  return insertItemText(text, path, index, renderItem(value, 0), 0);
}

/** The item's own text (comments included) and the column of its dash. */
export function itemText(text: string, path: Path, index: number): { text: string; column: number } {
  currentText = text;
  const seq = nodeAt(parse(text), path);
  if (!isSeq(seq) || index >= seq.items.length) throw new EditError(`no item ${index} at /${path.join("/")}`);
  if (isFlow(seq)) return { text: renderItem((seq.toJSON() as unknown[])[index], 0), column: 0 };
  const block = itemBlocks(text, seq)[index];
  return { text: text.slice(block.start, block.end), column: block.column };
}

export function removeItem(text: string, path: Path, index: number): string {
  currentText = text;
  const seq = nodeAt(parse(text), path);
  if (!isSeq(seq) || index >= seq.items.length) throw new EditError(`no item ${index} at /${path.join("/")}`);
  if (isFlow(seq)) return setAt(text, path, (seq.toJSON() as unknown[]).filter((_, i) => i !== index));
  const blocks = itemBlocks(text, seq);
  if (seq.items.length === 1) return emptyList(text, blocks[0]);
  return removeLines(text, blocks[index].start, blocks[index].end);
}

/** Replace item ``index``'s whole text (its own comments included) by ``newText``,
 * written for the item's own column. */
export function replaceItemText(text: string, path: Path, index: number, newText: string): string {
  currentText = text;
  const seq = nodeAt(parse(text), path);
  if (!isSeq(seq) || index >= seq.items.length) throw new EditError(`no item ${index} at /${path.join("/")}`);
  if (isFlow(seq)) {
    const items = seq.toJSON() as unknown[];
    items[index] = (parse(newText).toJSON() as unknown[])[0];
    return setAt(text, path, items);
  }
  const block = itemBlocks(text, seq)[index];
  return splice(text, lineStart(text, block.dash), block.end, newText.endsWith("\n") ? newText : newText + "\n");
}

/** A block list's last item removed: the list becomes `[]` on its key's line. */
function emptyList(text: string, block: { start: number; end: number }): string {
  const before = text.slice(0, block.start).replace(/[ \t]*\n?[ \t]*$/, "");
  return before + " []\n" + text.slice(block.end);
}

/** Rename a mapping key in place (the key's text only). */
export function renameKey(text: string, path: Path, newKey: string): string {
  const doc = parse(text);
  const parent = nodeAt(doc, path.slice(0, -1));
  if (!isMap(parent)) throw new EditError("not a mapping");
  const pair = pairOf(parent, String(path[path.length - 1]));
  if (!pair || !isPair(pair)) throw new EditError(`no key ${String(path[path.length - 1])}`);
  const [start, end] = (pair.key as YamlNode).range!;
  return splice(text, start, end, renderFlow(newKey));
}

/** The text of the value at ``path``, de-indented (for the raw YAML tab). */
export function valueText(text: string, path: Path): string {
  currentText = text;
  const node = nodeAt(parse(text), path);
  if (!node?.range) return "";
  if (!isCollection(node) || isFlow(node)) return stringify(node.toJSON(), STYLE);
  const start = lineStart(text, node.range[0]);
  const block = text.slice(start, contentEnd(text, node.range[2]));
  return reindent(block, -columnOf(text, node.range[0]));
}
