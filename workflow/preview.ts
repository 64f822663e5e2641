// A readable, JSON-safe picture of a value for people (frames' locals, journal entries,
// the CLI): bounded in depth, length and entries, never throwing. It is not a way to
// store values (snapshots do that): a preview loses information on purpose.

const MAX_DEPTH = 3;
const MAX_ITEMS = 20;
const MAX_STRING = 200;

export function preview(v: unknown, depth = 0, seen: Set<object> = new Set()): unknown {
  switch (typeof v) {
    case 'string':
      return v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}… (${v.length} chars)` : v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'boolean':
      return v;
    case 'undefined':
      return '<undefined>';
    case 'bigint':
      return `${v}n`;
    case 'symbol':
      return String(v);
    case 'function':
      return `<function ${(v as Function).name || 'anonymous'}>`;
  }
  if (v === null) return null;
  const o = v as object;
  if (seen.has(o)) return '<circular>';
  try {
    if (o instanceof Date) return Number.isNaN(o.getTime()) ? '<Invalid Date>' : o.toISOString();
    if (o instanceof Error) return `<${o.name}: ${o.message}>`;
    if (o instanceof RegExp) return String(o);
    const name = className(o);
    if (name === 'Channel' || name === 'Tasklet') return `<${name}>`;
    if (depth >= MAX_DEPTH) return Array.isArray(o) ? `<Array(${o.length})>` : `<${name ?? 'Object'}>`;
    seen.add(o);
    if (Array.isArray(o)) {
      const out = o.slice(0, MAX_ITEMS).map((x) => preview(x, depth + 1, seen));
      if (o.length > MAX_ITEMS) out.push(`… ${o.length - MAX_ITEMS} more`);
      return out;
    }
    if (o instanceof Map) return entries(`Map(${o.size})`, [...o].map(([k, x]) => [String(preview(k, MAX_DEPTH, seen)), x]), depth, seen);
    if (o instanceof Set) return { [`Set(${o.size})`]: preview([...o], depth, seen) };
    if (ArrayBuffer.isView(o)) return `<${name ?? 'TypedArray'} ${o.byteLength} bytes>`;
    const obj = entries(null, Object.keys(o).map((k) => [k, (o as Record<string, unknown>)[k]]), depth, seen) as Record<string, unknown>;
    return name !== null && name !== 'Object' ? { [`<${name}>`]: obj } : obj;
  } catch {
    return '<unreadable>';
  } finally {
    seen.delete(o);
  }
}

function entries(label: string | null, kv: Array<[string, unknown]>, depth: number, seen: Set<object>): unknown {
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, x] of kv.slice(0, MAX_ITEMS)) out[k] = preview(x, depth + 1, seen);
  if (kv.length > MAX_ITEMS) out['…'] = `${kv.length - MAX_ITEMS} more`;
  return label === null ? { ...out } : { [label]: { ...out } };
}

function className(o: object): string | null {
  const proto = Object.getPrototypeOf(o);
  if (proto === null) return null;
  const ctor = (proto as { constructor?: unknown }).constructor;
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : null;
}
