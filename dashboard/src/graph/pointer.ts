// JSON Pointers (RFC 6901): the one identity of a task everywhere (canvas nodes,
// validation problems, task runs): "/do/1/charge/try/0/callApi".

export function escapeToken(token: string | number): string {
  return String(token).replace(/~/g, "~0").replace(/\//g, "~1");
}

export function unescapeToken(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

export function joinPointer(pointer: string, ...tokens: (string | number)[]): string {
  return pointer + tokens.map((token) => "/" + escapeToken(token)).join("");
}

export function splitPointer(pointer: string): string[] {
  if (!pointer) return [];
  return pointer.slice(1).split("/").map(unescapeToken);
}

/** Path tokens for the yaml package's getIn/setIn: list indexes as numbers. */
export function pathOf(pointer: string): (string | number)[] {
  return splitPointer(pointer).map((token) => (/^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : token));
}

/** ``pointer`` is ``prefix`` or inside it ("/do/1" covers "/do/1/x", not "/do/10"). */
export function isWithin(pointer: string, prefix: string): boolean {
  return pointer === prefix || pointer.startsWith(prefix + "/");
}

/** The key among ``keys`` that is the longest prefix of ``pointer`` (null if none). */
export function longestPrefix(pointer: string, keys: Iterable<string>): string | null {
  let best: string | null = null;
  for (const key of keys) {
    if (isWithin(pointer, key) && (best === null || key.length > best.length)) best = key;
  }
  return best;
}
