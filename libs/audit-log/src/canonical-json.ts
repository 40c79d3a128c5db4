/**
 * Canonical JSON in the manner of RFC 8785 (JCS): object keys sorted by UTF-16 code units, no
 * insignificant whitespace, numbers and strings written exactly as ECMAScript's JSON.stringify writes
 * them (which is what JCS prescribes). One value has one byte form, so its hash is stable.
 *
 * Why our own ~40 lines and not a package: nothing implementing JCS is installed (only
 * fast-json-stable-stringify, a transitive dependency that sorts keys but silently drops or coerces
 * what JSON cannot hold, where a hash input should refuse it), and the house rule is no new dependency.
 * Why canonical at all: PostgreSQL `jsonb` does not keep key order, so the same event's data
 * stringifies differently when read from the store than when it was written or sent over Kafka.
 *
 * Differences from JCS, deliberate: `undefined` object members are left out (as JSON.stringify does;
 * zod leaves absent optional fields as undefined); anything else JSON cannot represent (NaN, Infinity,
 * bigint, functions, symbols, class instances such as Date or Buffer, `undefined` in arrays) throws,
 * because guessing a representation would make two different values hash alike.
 */
export class CanonicalJsonError extends Error {
  readonly code = 'canonical-json-unsupported';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${message} at ${path}`);
    this.name = 'CanonicalJsonError';
  }
}

export interface CanonicalJsonOptions {
  /**
   * Spaces per nesting level, for files people read (export manifests). The layout is as fixed as
   * the compact form, so a canonical file is still byte-for-byte reproducible from its value.
   */
  indent?: number;
}

export function canonicalJson(value: unknown, options: CanonicalJsonOptions = {}): string {
  const path: (string | number)[] = [];
  return write(value, path, options.indent ?? 0, 0);
}

/** The path is a stack of keys, joined only for an error: building strings per member halves the speed. */
type Path = (string | number)[];

function write(value: unknown, path: Path, indent: number, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw unsupported(`${value} is not a JSON number`, path);
      // Number-to-string is the ECMAScript algorithm JCS adopts; -0 becomes "0" as JCS requires.
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return writeArray(value, path, indent, depth);
      if (!isPlainObject(value)) throw unsupported('only plain objects are JSON objects', path);
      return writeObject(value as Record<string, unknown>, path, indent, depth);
    case 'undefined':
    case 'bigint':
    case 'function':
    case 'symbol':
      throw unsupported(`a ${typeof value} is not JSON`, path);
  }
}

function writeArray(items: readonly unknown[], path: Path, indent: number, depth: number): string {
  if (items.length === 0) return '[]';
  const parts: string[] = [];
  for (let index = 0; index < items.length; index += 1) {
    path.push(index);
    parts.push(write(items[index], path, indent, depth + 1));
    path.pop();
  }
  return wrap('[', parts, ']', indent, depth);
}

function writeObject(object: Record<string, unknown>, path: Path, indent: number, depth: number): string {
  const separator = indent > 0 ? ': ' : ':';
  const members: string[] = [];
  // Default sort compares UTF-16 code units, which is the order JCS specifies.
  for (const key of Object.keys(object).sort()) {
    const member = object[key];
    if (member === undefined) continue;
    path.push(key);
    members.push(JSON.stringify(key) + separator + write(member, path, indent, depth + 1));
    path.pop();
  }
  if (members.length === 0) return '{}';
  return wrap('{', members, '}', indent, depth);
}

function wrap(open: string, parts: string[], close: string, indent: number, depth: number): string {
  if (indent === 0) return open + parts.join(',') + close;
  const inner = ' '.repeat(indent * (depth + 1));
  const outer = ' '.repeat(indent * depth);
  return `${open}\n${inner}${parts.join(`,\n${inner}`)}\n${outer}${close}`;
}

function unsupported(message: string, path: Path): CanonicalJsonError {
  const where = path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('');
  return new CanonicalJsonError(message, `$${where}`);
}

/**
 * Object.prototype of any realm, or none: objects from node:vm contexts (Jest's sandbox,
 * structuredClone there) are plain too, while class instances (Date, Buffer, Map) are not.
 */
function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as object | null;
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}
