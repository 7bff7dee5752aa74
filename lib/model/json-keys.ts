/**
 * Finds the first duplicate key in JSON text (JSON.parse silently keeps the last one, which would
 * hide a policy mistake). Returns its offset and name, or undefined. Assumes the text is valid JSON.
 */
export function firstDuplicateJsonKey(text: string): { offset: number; key: string } | undefined {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(start, j + 1)) as string;
        if (top.has(key)) return { offset: start, key };
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === "{") {
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
