/**
 * JSON as text, the way Argo Events handles it: event data travels as the bytes its event
 * source marshalled, and gjson reads those bytes, not a decoded value. So numbers keep their
 * spelling, strings their escapes, and an object may hold a key twice (gjson's Get finds the
 * first, and so does its Value()). Parsing is lenient like gjson's: text after a broken
 * member is ignored rather than rejected.
 */

export type JsonNode =
  /** `complete`: the closing bracket was found (lenient reading keeps what came before it). */
  | { readonly t: 'object'; readonly raw: string; readonly entries: readonly (readonly [string, JsonNode])[]; readonly complete: boolean }
  /** `countable`: gjson can count (`#`) it, which fails only when the text ends inside a string. */
  | { readonly t: 'array'; readonly raw: string; readonly items: readonly JsonNode[]; readonly complete: boolean; readonly countable: boolean }
  | { readonly t: 'string'; readonly raw: string; readonly str: string }
  | { readonly t: 'number'; readonly raw: string; readonly num: number }
  | { readonly t: 'true' | 'false' | 'null'; readonly raw: string };

/** gjson's Parse: the first value in the text, read leniently; undefined when there is none. */
export function parseJsonText(text: string): JsonNode | undefined {
  const p = new Reader(text);
  p.space();
  return p.at < text.length ? p.value() : undefined;
}

class Reader {
  public at = 0;
  /** The text ended inside a string. */
  private cutInString = false;
  public constructor(private readonly text: string) {}

  public space(): void {
    while (this.at < this.text.length && this.text.charCodeAt(this.at) <= 0x20) this.at++;
  }

  public value(): JsonNode | undefined {
    const start = this.at;
    const c = this.text[this.at];
    if (c === '{') return this.object(start);
    if (c === '[') return this.array(start);
    if (c === '"') {
      const str = this.string();
      return str === undefined ? undefined : { t: 'string', raw: this.text.slice(start, this.at), str };
    }
    const literal = /^(?:true|false|null)/.exec(this.text.slice(this.at, this.at + 5));
    if (literal) {
      this.at += literal[0].length;
      return { t: literal[0] as 'true' | 'false' | 'null', raw: literal[0] };
    }
    const number = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(this.text.slice(this.at));
    if (number) {
      this.at += number[0].length;
      return { t: 'number', raw: number[0], num: Number(number[0]) };
    }
    return undefined;
  }

  private object(start: number): JsonNode {
    const entries: [string, JsonNode][] = [];
    let complete = false;
    this.at++;
    for (;;) {
      this.space();
      if (this.text[this.at] === '}') {
        this.at++;
        complete = true;
        break;
      }
      if (this.text[this.at] !== '"') break;
      const key = this.string();
      this.space();
      if (key === undefined || this.text[this.at] !== ':') break;
      this.at++;
      this.space();
      const value = this.value();
      if (!value) break;
      entries.push([key, value]);
      this.space();
      if (this.text[this.at] === ',') this.at++;
    }
    return { t: 'object', raw: this.text.slice(start, this.at), entries, complete };
  }

  private array(start: number): JsonNode {
    const items: JsonNode[] = [];
    let complete = false;
    this.at++;
    for (;;) {
      this.space();
      if (this.text[this.at] === ']') {
        this.at++;
        complete = true;
        break;
      }
      const value = this.value();
      if (!value) break;
      items.push(value);
      this.space();
      if (this.text[this.at] === ',') this.at++;
    }
    return { t: 'array', raw: this.text.slice(start, this.at), items, complete, countable: complete || !this.cutInString };
  }

  /** A JSON string starting at `at`, decoded as gjson decodes it: a `\u` surrogate pair is one character, a lone surrogate becomes U+FFFD. */
  private string(): string | undefined {
    let out = '';
    for (let i = this.at + 1; i < this.text.length; i++) {
      const c = this.text[i];
      if (c === '"') {
        this.at = i + 1;
        return out.replace(LONE_SURROGATE, '\ufffd');
      }
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[++i];
      if (e === 'u') {
        out += String.fromCharCode(Number.parseInt(this.text.slice(i + 1, i + 5), 16) || 0);
        i += 4;
      } else out += ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e] ?? e;
    }
    this.cutInString = true;
    return undefined;
  }
}

/**
 * `json.Marshal` of a `json.RawMessage`, which is how the webhook and SQS event sources embed
 * a body: the text must be one valid JSON value (else the event is dropped), insignificant
 * white space is removed, `<`, `>`, `&`, U+2028 and U+2029 are escaped, and everything else
 * (number spellings, other escapes such as `\/`) is kept byte for byte.
 */
export function marshalRawMessage(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    throw new Error(`json: error calling MarshalJSON for type *json.RawMessage: ${(e as Error).message}`);
  }
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') {
        out += c + text[++i];
        continue;
      }
      if (c === '"') inString = false;
      out += HTML_ESCAPES[c] ?? c;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c.charCodeAt(0) > 0x20) out += c;
  }
  return out;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const HTML_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };
