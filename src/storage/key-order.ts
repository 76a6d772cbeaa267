/**
 * @module storage/key-order
 * S3 lists keys in UTF-8 byte order. JavaScript compares strings by UTF-16 code unit, which disagrees for
 * characters above U+FFFF against U+E000..U+FFFF; UTF-8 byte order equals code point order, so compare
 * code points.
 */

/** Negative, zero or positive as `a` sorts before, with or after `b` in UTF-8 byte order. */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only when both are outside the surrogate block does code unit order equal code point order.
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate === ySurrogate) return x - y;
    return xSurrogate ? (y >= 0xe000 ? 1 : x - y) : x >= 0xe000 ? -1 : x - y;
  }
  return a.length - b.length;
}

/**
 * The smallest string greater than every string that starts with `prefix` (in UTF-8 byte order), or null
 * when there is none (the prefix ends with U+10FFFF). Lets a listing seek past a whole "folder".
 */
export function prefixSuccessor(prefix: string): string | null {
  const chars = Array.from(prefix);
  while (chars.length > 0) {
    const last = chars.pop() ?? '';
    let code = (last.codePointAt(0) ?? 0) + 1;
    if (code >= 0xd800 && code <= 0xdfff) code = 0xe000;
    if (code <= 0x10ffff) return chars.join('') + String.fromCodePoint(code);
  }
  return null;
}
