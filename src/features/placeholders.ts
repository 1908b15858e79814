/**
 * Putting redacted values back. Input guards may replace PII with placeholders before the model sees
 * it; with `placeholders: restore` the caller's answer gets the originals back. In a JSON answer the
 * originals are inserted JSON-escaped, so the answer stays valid JSON.
 */

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function restorePlaceholders(
  text: string,
  placeholders: Record<string, string>,
  json: boolean,
): string {
  // One pass, longest name first: <EMAIL_10> is not read as <EMAIL_1>, and a restored value is
  // never itself searched for placeholders.
  const names = Object.keys(placeholders)
    .filter((name) => name !== '')
    .sort((a, b) => b.length - a.length);
  if (names.length === 0) return text;
  const pattern = new RegExp(names.map(escapeRegExp).join('|'), 'g');
  return text.replace(pattern, (name) => {
    const original = placeholders[name]!;
    return json ? JSON.stringify(original).slice(1, -1) : original;
  });
}
