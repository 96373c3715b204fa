/**
 * The subset of github.com/tidwall/sjson paths Argo Events uses for trigger parameter `dest`:
 * keys separated by `.` (escape with `\`), numeric components index arrays, `-1` appends.
 * Missing objects on the way are created. Returns a new value; the input is not modified.
 */
export function setPath(root: unknown, path: string, value: unknown): unknown {
  const keys = splitPath(path);
  if (keys.length === 0) throw new Error('sjson: empty path');
  return setAt(root, keys, value);
}

function splitPath(path: string): string[] {
  const keys: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '\\' && i + 1 < path.length) current += path[++i];
    else if (path[i] === '.') (keys.push(current), (current = ''));
    else current += path[i];
  }
  keys.push(current);
  return keys;
}

function setAt(node: unknown, keys: string[], value: unknown): unknown {
  const [key, ...rest] = keys;
  if (Array.isArray(node) && (/^\d+$/.test(key) || key === '-1')) {
    const copy = [...node];
    const index = key === '-1' ? copy.length : Number(key);
    while (copy.length < index) copy.push(null);
    copy[index] = rest.length ? setAt(copy[index], rest, value) : value;
    return copy;
  }
  const obj = node !== null && typeof node === 'object' && !Array.isArray(node) ? { ...(node as Record<string, unknown>) } : {};
  obj[key] = rest.length ? setAt(obj[key], rest, value) : value;
  return obj;
}
