/**
 * Finds the first duplicate key in JSON text (JSON.parse silently keeps the last one, which would
 * hide a policy mistake). Returns its offset and name, or undefined. Assumes the text is valid JSON.
 */
export function firstDuplicateJsonKey(text: string): { offset: number; key: string } | undefined {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  const QUOTE = 34;
  const BACKSLASH = 92;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const start = i;
      let j = i + 1;
      let escaped = false;
      for (let k = text.charCodeAt(j); k !== QUOTE; k = text.charCodeAt(j)) {
        if (k === BACKSLASH) {
          escaped = true;
          j += 2;
        } else j++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        // Only keys with escapes need decoding to compare ("a" and "\u0061" are the same key).
        const key = escaped ? (JSON.parse(text.slice(start, j + 1)) as string) : text.slice(start + 1, j);
        if (top.has(key)) return { offset: start, key };
        top.add(key);
        expectKey = false;
      }
      i = j;
      continue;
    }
    const c = text[i];
    if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      stack.push(null);
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      expectKey = stack[stack.length - 1] !== null;
    }
  }
  return undefined;
}
