/**
 * Writes plain JSON data as block YAML (for editing a deployed service as FDL). Strings that YAML could
 * read as something else are written double-quoted (JSON strings are valid YAML); multi-line text as `|`.
 */

const PLAIN = /^[A-Za-z_./][A-Za-z0-9 _./:@+-]*$/;
const AMBIGUOUS = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (
    PLAIN.test(text) &&
    !AMBIGUOUS.test(text) &&
    !text.endsWith(' ') &&
    !text.includes(': ') &&
    !text.includes(' #')
  )
    return text;
  return JSON.stringify(text);
}

function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0)
  );
}

function block(value: unknown, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (typeof item === 'object' && item !== null) {
        const lines = block(item, indent + 2);
        const first = lines[0] ?? '';
        return [`${pad}- ${first.trimStart()}`, ...lines.slice(1)];
      }
      return [`${pad}- ${scalar(item)}`];
    });
  }
  if (typeof value === 'object' && value !== null) {
    const lines: string[] = [];
    for (const [key, item] of Object.entries(value)) {
      if (isEmpty(item)) continue;
      if (typeof item === 'object' && item !== null) {
        lines.push(`${pad}${scalar(key)}:`, ...block(item, indent + 2));
      } else if (typeof item === 'string' && item.includes('\n')) {
        lines.push(
          `${pad}${scalar(key)}: |`,
          ...item
            .replace(/\n$/, '')
            .split('\n')
            .map((l) => `${pad}  ${l}`),
        );
      } else {
        lines.push(`${pad}${scalar(key)}: ${scalar(item)}`);
      }
    }
    return lines;
  }
  return [`${pad}${scalar(value)}`];
}

export function toYaml(value: unknown): string {
  return block(value, 0).join('\n') + '\n';
}
