/**
 * How Go renders decoded JSON values, which decides the exact strings Argo Events produces:
 * `encoding/json.Marshal` (sprig `toJson`: sorted keys, HTML-safe escapes) and `fmt`'s `%v`
 * (template output of numbers uses the shortest `%g`, so 1000000 prints as `1e+06`).
 */

/** Go's string order (bytes of UTF-8), in which it sorts map keys; JavaScript's sort() compares UTF-16 code units, which differ past U+FFFF. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function goJsonMarshal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goJsonNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(goJsonMarshal).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).sort(compareUtf8);
    return `{${keys.map((k) => `${goQuote(k)}:${goJsonMarshal(obj[k])}`).join(',')}}`;
  }
  throw new Error(`cannot marshal ${typeof value} to JSON`);
}

function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || ch === '<' || ch === '>' || ch === '&' || code === 0x2028 || code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** encoding/json float64: plain decimal between 1e-6 and 1e21, exponent form outside (as JavaScript does). */
function goJsonNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`json: unsupported value: ${n}`);
  return Object.is(n, -0) ? '-0' : String(n);
}

/** fmt `%v` of a decoded JSON value, as text/template prints it. */
export function goFormatValue(value: unknown): string {
  if (value === undefined) return '<no value>';
  if (value === null) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return goFormatFloat(value);
  if (Array.isArray(value)) return `[${value.map(goFormatValue).join(' ')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `map[${Object.keys(obj).sort(compareUtf8).map((k) => `${k}:${goFormatValue(obj[k])}`).join(' ')}]`;
  }
  return String(value);
}

/** strconv.FormatFloat(f, 'g', -1, 64), which `%v` uses: exponent form when the exponent is < -4 or >= 6. */
export function goFormatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, expText] = n.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    const abs = Math.abs(exp);
    return `${mantissa}e${sign}${abs < 10 ? `0${abs}` : abs}`;
  }
  return String(n);
}
