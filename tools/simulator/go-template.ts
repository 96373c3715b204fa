/**
 * A Go text/template interpreter for the templates Argo Events evaluates (`dataTemplate`,
 * `contextTemplate`, data filter `template`): text, `{{- -}}` trimming, pipelines, field
 * chains on `.`/`$`/variables, `if`/`else if`/`with`/`range`, variables, and the text/template
 * builtins plus the sprig v3 functions listed in FUNCS. An unknown function or construct
 * throws, naming it, instead of rendering something Argo would not.
 */
import { createHash } from 'node:crypto';
import { compareUtf8, goFormatValue, goJsonMarshal } from './go-values';

type Value = unknown;

interface Scope {
  dot: Value;
  vars: Map<string, Value>[];
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; then: Node[]; else: Node[] }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; else: Node[]; keyVar?: string; valueVar?: string };

interface Pipeline {
  decl?: { name: string; assign: boolean };
  commands: Operand[][];
}

type Operand =
  | { kind: 'field'; base: 'dot' | 'var'; name?: string; fields: string[] }
  | { kind: 'literal'; value: Value }
  | { kind: 'func'; name: string }
  | { kind: 'sub'; pipe: Pipeline; fields: string[] };

export function renderGoTemplate(template: string, data: Value): string {
  const nodes = parse(template);
  const out: string[] = [];
  execNodes(nodes, { dot: data, vars: [new Map([['$', data]])] }, out);
  return out.join('');
}

// ---------------------------------------------------------------- parsing

interface RawAction {
  text: string;
}

function split(template: string): (string | RawAction)[] {
  const parts: (string | RawAction)[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    if (open < 0) {
      parts.push(template.slice(i));
      break;
    }
    let text = template.slice(i, open);
    let start = open + 2;
    if (template[start] === '-' && /\s/.test(template[start + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    parts.push(text);
    const close = findClose(template, start);
    let end = close;
    let trimAfter = false;
    if (template[close - 1] === '-' && /\s/.test(template[close - 2] ?? '')) {
      end = close - 1;
      trimAfter = true;
    }
    parts.push({ text: template.slice(start, end).trim() });
    i = close + 2;
    if (trimAfter) while (i < template.length && /\s/.test(template[i])) i++;
  }
  return parts.filter((p) => p !== '');
}

function findClose(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
    } else if (s[i] === '`') {
      i = s.indexOf('`', i + 1);
      if (i < 0) break;
    } else if (s[i] === '}' && s[i + 1] === '}') return i;
  }
  throw new Error('template: unclosed action');
}

function parse(template: string): Node[] {
  const parts = split(template);
  let pos = 0;
  const block = (terminators: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < parts.length) {
      const part = parts[pos++];
      if (typeof part === 'string') {
        nodes.push({ kind: 'text', text: part });
        continue;
      }
      const text = part.text;
      if (text.startsWith('/*')) continue;
      const word = /^(\w+)\b/.exec(text)?.[1];
      if (word && terminators.includes(word)) return { nodes, end: text };
      if (word === 'if' || word === 'with') {
        nodes.push(parseConditional(word, text.slice(word.length).trim()));
      } else if (word === 'range') {
        nodes.push(parseRange(text.slice(5).trim()));
      } else if (word === 'end' || word === 'else') {
        throw new Error(`template: unexpected {{${text}}}`);
      } else if (word === 'define' || word === 'template' || word === 'block' || word === 'break' || word === 'continue') {
        throw new Error(`template: {{${word}}} is not supported by the simulator`);
      } else {
        nodes.push({ kind: 'action', pipe: parsePipeline(text) });
      }
    }
    if (terminators.length) throw new Error(`template: missing {{end}}`);
    return { nodes, end: '' };
  };
  const parseConditional = (kind: 'if' | 'with', cond: string): Node => {
    const then = block(['end', 'else']);
    let elseNodes: Node[] = [];
    if (then.end.startsWith('else')) {
      const rest = then.end.slice(4).trim();
      if (rest.startsWith('if ') || rest.startsWith('with ')) {
        const nested = rest.startsWith('if ') ? 'if' : 'with';
        elseNodes = [parseConditional(nested, rest.slice(nested.length).trim())];
      } else {
        elseNodes = block(['end']).nodes;
      }
    }
    return { kind, pipe: parsePipeline(cond), then: then.nodes, else: elseNodes };
  };
  const parseRange = (text: string): Node => {
    let keyVar: string | undefined;
    let valueVar: string | undefined;
    const m = /^(\$\w*)\s*(?:,\s*(\$\w*)\s*)?:=\s*/.exec(text);
    let pipeText = text;
    if (m) {
      if (m[2]) (keyVar = m[1]), (valueVar = m[2]);
      else valueVar = m[1];
      pipeText = text.slice(m[0].length);
    }
    const body = block(['end', 'else']);
    const elseNodes = body.end.startsWith('else') ? block(['end']).nodes : [];
    return { kind: 'range', pipe: parsePipeline(pipeText), body: body.nodes, else: elseNodes, keyVar, valueVar };
  };
  return block([]).nodes;
}

type Token = { t: 'str' | 'num' | 'ident' | 'field' | 'var' | 'punct'; v: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) if (text[j] === '\\') j++;
      tokens.push({ t: 'str', v: JSON.parse(text.slice(i, j + 1)) as string });
      i = j + 1;
    } else if (c === '`') {
      const j = text.indexOf('`', i + 1);
      tokens.push({ t: 'str', v: text.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '(' || c === ')' || c === '|' || c === ',') {
      tokens.push({ t: 'punct', v: c });
      i++;
    } else if (text.startsWith(':=', i) || (c === '=' && text[i + 1] !== '=')) {
      const v = c === ':' ? ':=' : '=';
      tokens.push({ t: 'punct', v });
      i += v.length;
    } else {
      const m = /^(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\$\w*(?:\.\w+)*|\.(?:\w+(?:\.\w+)*)?|[A-Za-z_]\w*(?:\.\w+)*)/.exec(text.slice(i));
      if (!m) throw new Error(`template: unexpected "${text.slice(i)}"`);
      const v = m[1];
      const t: Token['t'] = /^-?\d/.test(v) ? 'num' : v[0] === '$' ? 'var' : v[0] === '.' ? 'field' : 'ident';
      tokens.push({ t, v });
      i += v.length;
    }
  }
  return tokens;
}

function parsePipeline(text: string): Pipeline {
  const tokens = tokenize(text);
  let pos = 0;
  const pipeline = (stop?: string): Pipeline => {
    const p: Pipeline = { commands: [] };
    if (tokens[pos]?.t === 'var' && (tokens[pos + 1]?.v === ':=' || tokens[pos + 1]?.v === '=')) {
      p.decl = { name: tokens[pos].v, assign: tokens[pos + 1].v === '=' };
      pos += 2;
    }
    let command: Operand[] = [];
    while (pos < tokens.length && tokens[pos].v !== stop) {
      const tok = tokens[pos++];
      if (tok.t === 'punct' && tok.v === '|') {
        p.commands.push(command);
        command = [];
      } else if (tok.t === 'punct' && tok.v === '(') {
        const sub = pipeline(')');
        pos++; // ')'
        const fields: string[] = [];
        while (tokens[pos]?.t === 'field' && tokens[pos].v !== '.') fields.push(...tokens[pos++].v.slice(1).split('.'));
        command.push({ kind: 'sub', pipe: sub, fields });
      } else command.push(operand(tok));
    }
    p.commands.push(command);
    if (p.commands.some((c) => c.length === 0)) throw new Error(`template: empty command in "${text}"`);
    return p;
  };
  const result = pipeline();
  return result;
}

function operand(tok: Token): Operand {
  switch (tok.t) {
    case 'str':
      return { kind: 'literal', value: tok.v };
    case 'num':
      return { kind: 'literal', value: Number(tok.v) };
    case 'field':
      return { kind: 'field', base: 'dot', fields: tok.v === '.' ? [] : tok.v.slice(1).split('.') };
    case 'var': {
      const [name, ...fields] = tok.v.split('.');
      return { kind: 'field', base: 'var', name, fields };
    }
    case 'ident':
      if (tok.v === 'true' || tok.v === 'false') return { kind: 'literal', value: tok.v === 'true' };
      if (tok.v === 'nil') return { kind: 'literal', value: null };
      if (tok.v.includes('.')) throw new Error(`template: unexpected "${tok.v}"`);
      return { kind: 'func', name: tok.v };
    default:
      throw new Error(`template: unexpected "${tok.v}"`);
  }
}

// ---------------------------------------------------------------- evaluation

function execNodes(nodes: Node[], scope: Scope, out: string[]): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out.push(node.text);
        break;
      case 'action': {
        const v = evalPipeline(node.pipe, scope);
        // text/template prints a nil value as "<no value>" (fmt, e.g. in `print` or inside a map, says "<nil>").
        if (!node.pipe.decl) out.push(v === null ? '<no value>' : goFormatValue(v));
        break;
      }
      case 'if':
      case 'with': {
        const inner: Scope = { dot: scope.dot, vars: [...scope.vars, new Map()] };
        const v = evalPipeline(node.pipe, inner);
        if (truthy(v)) execNodes(node.then, node.kind === 'with' ? { ...inner, dot: v } : inner, out);
        else execNodes(node.else, { dot: scope.dot, vars: [...scope.vars, new Map()] }, out);
        break;
      }
      case 'range': {
        const v = evalPipeline(node.pipe, scope);
        const entries: [Value, Value][] = Array.isArray(v)
          ? v.map((e, i) => [i, e])
          : v && typeof v === 'object'
            ? Object.keys(v).sort(compareUtf8).map((k) => [k, (v as Record<string, Value>)[k]])
            : [];
        if (entries.length === 0) execNodes(node.else, scope, out);
        for (const [k, e] of entries) {
          const vars = new Map<string, Value>();
          if (node.keyVar) vars.set(node.keyVar, k);
          if (node.valueVar) vars.set(node.valueVar, e);
          execNodes(node.body, { dot: e, vars: [...scope.vars, vars] }, out);
        }
        break;
      }
    }
  }
}

function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function lookupVar(scope: Scope, name: string): Value {
  for (let i = scope.vars.length - 1; i >= 0; i--) if (scope.vars[i].has(name)) return scope.vars[i].get(name);
  throw new Error(`template: undefined variable "${name}"`);
}

function evalPipeline(pipe: Pipeline, scope: Scope): Value {
  let value: Value = undefined;
  pipe.commands.forEach((command, i) => {
    value = evalCommand(command, scope, i === 0 ? undefined : { value });
  });
  if (pipe.decl) {
    if (pipe.decl.assign) {
      const holder = [...scope.vars].reverse().find((m) => m.has(pipe.decl!.name));
      if (!holder) throw new Error(`template: undefined variable "${pipe.decl.name}"`);
      holder.set(pipe.decl.name, value);
    } else scope.vars[scope.vars.length - 1].set(pipe.decl.name, value);
  }
  return value;
}

function evalCommand(command: Operand[], scope: Scope, piped?: { value: Value }): Value {
  const [head, ...rest] = command;
  if (head.kind === 'func') {
    const fn = FUNCS[head.name];
    if (!fn) throw new Error(`template: function "${head.name}" is not supported by the simulator`);
    const args = rest.map((o) => evalOperand(o, scope));
    if (piped) args.push(piped.value);
    return fn(...args);
  }
  if (rest.length > 0 || piped) throw new Error('template: only functions take arguments');
  return evalOperand(head, scope);
}

function evalOperand(op: Operand, scope: Scope): Value {
  switch (op.kind) {
    case 'literal':
      return op.value;
    case 'func':
      return evalCommand([op], scope);
    case 'field':
      return fieldChain(op.base === 'dot' ? scope.dot : lookupVar(scope, op.name!), op.fields);
    case 'sub':
      return fieldChain(evalPipeline(op.pipe, scope), op.fields);
  }
}

function fieldChain(value: Value, fields: string[]): Value {
  let v = value;
  for (const f of fields) {
    if (v === undefined || v === null) throw new Error(`template: nil pointer evaluating interface {}.${f}`);
    if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`template: can't evaluate field ${f} in type ${goType(v)}`);
    v = (v as Record<string, Value>)[f];
  }
  return v;
}

function goType(v: Value): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'interface {}';
}

// ---------------------------------------------------------------- functions

function str(v: Value): string {
  return v === undefined || v === null ? '' : goFormatValue(v);
}

function sprintf(format: string, args: Value[]): string {
  let i = 0;
  return format.replace(/%([%svdq])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    if (verb === 'q') return JSON.stringify(str(a));
    if (verb === 'd') return typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${goType(a)}=${str(a)})`;
    return str(a);
  });
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new Error(`template: incompatible types for comparison`);
}

const FUNCS: Record<string, (...args: Value[]) => Value> = {
  // text/template builtins
  and: (...a) => a.find((v) => !truthy(v)) ?? a[a.length - 1],
  or: (...a) => a.find((v) => truthy(v)) ?? a[a.length - 1],
  not: (a) => !truthy(a),
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  len: (a) => (typeof a === 'string' || Array.isArray(a) ? a.length : a && typeof a === 'object' ? Object.keys(a).length : 0),
  index: (a, ...keys) => keys.reduce((v: Value, k) => (Array.isArray(v) ? v[Number(k)] : v && typeof v === 'object' ? (v as Record<string, Value>)[String(k)] : undefined), a),
  // fmt.Sprint: a nil or missing value prints as <nil>.
  print: (...a) => a.map((v, i) => (i > 0 && typeof v !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '') + (v === undefined || v === null ? '<nil>' : str(v))).join(''),
  printf: (format, ...a) => sprintf(String(format), a),
  // sprig v3: strings
  lower: (s) => str(s).toLowerCase(),
  upper: (s) => str(s).toUpperCase(),
  trim: (s) => str(s).trim(),
  trimPrefix: (p, s) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s)),
  trimSuffix: (p, s) => (str(s).endsWith(str(p)) ? str(s).slice(0, str(s).length - str(p).length) : str(s)),
  replace: (old, neu, s) => str(s).split(str(old)).join(str(neu)),
  contains: (sub, s) => str(s).includes(str(sub)),
  hasPrefix: (p, s) => str(s).startsWith(str(p)),
  hasSuffix: (p, s) => str(s).endsWith(str(p)),
  quote: (...a) => a.map((v) => JSON.stringify(str(v))).join(' '),
  squote: (...a) => a.map((v) => `'${str(v)}'`).join(' '),
  cat: (...a) => a.filter((v) => v !== undefined && v !== null).map(str).join(' '),
  trunc: (n, s) => {
    const text = str(s);
    const c = Number(n);
    return c >= 0 ? text.slice(0, c) : text.slice(Math.max(0, text.length + c));
  },
  substr: (start, end, s) => str(s).slice(Number(start), Number(end) < 0 ? undefined : Number(end)),
  join: (sep, list) => (Array.isArray(list) ? list.map(str).join(str(sep)) : str(list)),
  splitList: (sep, s) => str(s).split(str(sep)),
  toString: (v: Value) => str(v),
  regexMatch: (re, s) => new RegExp(String(re)).test(str(s)),
  regexReplaceAll: (re, s, repl) => str(s).replace(new RegExp(String(re), 'g'), str(repl).replace(/\$\{?(\d+)\}?/g, '$$$1')),
  b64enc: (s) => Buffer.from(str(s), 'utf8').toString('base64'),
  // sprig v3: hashes, JSON
  sha256sum: (s) => createHash('sha256').update(str(s), 'utf8').digest('hex'),
  sha1sum: (s) => createHash('sha1').update(str(s), 'utf8').digest('hex'),
  // sprig's toJson ignores json.Marshal's error and returns "".
  toJson: (v) => {
    try {
      return goJsonMarshal(v);
    } catch {
      return '';
    }
  },
  fromJson: (v) => {
    try {
      return JSON.parse(str(v)) as Value;
    } catch {
      return null;
    }
  },
  toRawJson: (v) => goJsonMarshal(v).replace(/\\u003c/g, '<').replace(/\\u003e/g, '>').replace(/\\u0026/g, '&'),
  // sprig v3: defaults, flow
  default: (d, v) => (truthy(v) ? v : d),
  empty: (v) => !truthy(v),
  coalesce: (...a) => a.find((v) => truthy(v)),
  ternary: (t, f, cond) => (truthy(cond) ? t : f),
  fail: (message) => {
    throw new Error(`template: fail: ${str(message)}`);
  },
  // sprig v3: lists and dicts
  list: (...a) => a,
  first: (l) => (Array.isArray(l) ? l[0] : undefined),
  last: (l) => (Array.isArray(l) ? l[l.length - 1] : undefined),
  rest: (l) => (Array.isArray(l) ? l.slice(1) : []),
  initial: (l) => (Array.isArray(l) ? l.slice(0, -1) : []),
  dict: (...a) => {
    const d: Record<string, Value> = {};
    for (let i = 0; i < a.length; i += 2) d[str(a[i])] = a[i + 1] === undefined ? null : a[i + 1];
    return d;
  },
  hasKey: (d, k) => Boolean(d && typeof d === 'object' && Object.prototype.hasOwnProperty.call(d, str(k))),
  keys: (...ds) => ds.flatMap((d) => (d && typeof d === 'object' ? Object.keys(d) : [])),
  kindIs: (kind, v) => kindOf(v) === kind,
  kindOf: (v) => kindOf(v),
};

function kindOf(v: Value): string {
  if (v === undefined || v === null) return 'invalid';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'slice';
  return 'map';
}
