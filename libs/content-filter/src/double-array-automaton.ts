/**
 * An Aho-Corasick automaton over UTF-16 units stored as a double-array trie (Aoe 1989): the child of
 * state s on code c is t = base[s] + c when check[t] === s. A scan step is two typed-array reads and
 * a compare, with failure links for the misses, so a message costs a few nanoseconds per character
 * whatever the size of the list. Units are first mapped to dense codes (the alphabet of the list, most
 * frequent first), so the arrays stay about as long as the trie has states.
 *
 * Keys are opaque here: the automaton reports key indices and never holds the words as strings.
 */
export class DoubleArrayAutomaton {
  private constructor(
    /** Unit to dense code; 0 for units no key contains (they send the scan back to the root). */
    readonly codeOf: Uint16Array,
    readonly base: Int32Array,
    readonly check: Int32Array,
    readonly fail: Int32Array,
    /** Key index + 1 ending at this state, 0 for none. */
    readonly output: Int32Array,
    /** The nearest state on the failure chain with an output, 0 for none. */
    readonly outputLink: Int32Array,
    /** Length of the path from the root: how much of the text a pending match may still reach back. */
    readonly depth: Uint16Array,
    readonly stateCount: number,
  ) {}

  /** Keys must be distinct and non-empty. Key i is reported as i. */
  static build(keys: readonly string[]): DoubleArrayAutomaton {
    const codeOf = denseCodes(keys);
    const coded = keys.map((key) => Uint16Array.from(key, (_, i) => codeOf[key.charCodeAt(i)]!));
    const order = Array.from(coded.keys()).sort((a, b) => compareCodes(coded[a]!, coded[b]!));
    const builder = new ArrayBuilder();
    let alphabet = 0;
    for (const key of coded) for (const code of key) if (code > alphabet) alphabet = code;

    // Breadth first, each node's children placed together: the BFS order is also what the failure
    // links are computed in. A node is a range of the sorted keys sharing its path.
    const bfs: number[] = [0];
    const queue: { state: number; left: number; right: number; depth: number }[] = [
      { state: 0, left: 0, right: order.length, depth: 0 },
    ];
    builder.occupy(0, -1);
    for (let head = 0; head < queue.length; head++) {
      const { state, left, right, depth } = queue[head]!;
      const codes: number[] = [];
      const ranges: number[] = [];
      for (let i = left; i < right; i++) {
        const key = coded[order[i]!]!;
        if (key.length === depth) {
          builder.output[state] = order[i]! + 1;
          continue;
        }
        const code = key[depth]!;
        if (codes.at(-1) !== code) {
          codes.push(code);
          ranges.push(i);
        }
      }
      if (codes.length === 0) continue;
      ranges.push(right);
      const base = builder.place(codes, state);
      codes.forEach((code, i) => {
        const child = base + code;
        builder.depth[child] = depth + 1;
        bfs.push(child);
        queue.push({ state: child, left: ranges[i]!, right: ranges[i + 1]!, depth: depth + 1 });
      });
    }
    // Room past the last state for any code, so a scan step never reads outside the arrays.
    const size = builder.end + alphabet + 1;
    const base = padded(builder.base, new Int32Array(size), builder.end);
    const check = padded(builder.check, new Int32Array(size).fill(-1), builder.end);
    const output = padded(builder.output, new Int32Array(size), builder.end);
    const depth = padded(builder.depth, new Uint16Array(size), builder.end);
    const fail = new Int32Array(size);
    const outputLink = new Int32Array(size);
    const next = (state: number, code: number): number =>
      check[base[state]! + code] === state ? base[state]! + code : -1;
    for (let i = 1; i < bfs.length; i++) {
      const state = bfs[i]!;
      const parent = check[state]!;
      const code = state - base[parent]!;
      let target = 0;
      if (parent !== 0) {
        let f = fail[parent]!;
        while (f !== 0 && next(f, code) < 0) f = fail[f]!;
        target = Math.max(next(f, code), 0);
      }
      fail[state] = target;
      outputLink[state] = output[target] !== 0 ? target : outputLink[target]!;
    }
    return new DoubleArrayAutomaton(codeOf, base, check, fail, output, outputLink, depth, bfs.length);
  }

  /** Typed arrays retained, in bytes (the unit map included). */
  get byteLength(): number {
    return (
      this.codeOf.byteLength +
      this.base.byteLength +
      this.check.byteLength +
      this.fail.byteLength +
      this.output.byteLength +
      this.outputLink.byteLength +
      this.depth.byteLength
    );
  }
}

function padded<T extends Int32Array | Uint16Array>(from: T, to: T, length: number): T {
  to.set(from.subarray(0, length));
  return to;
}

function denseCodes(keys: readonly string[]): Uint16Array {
  const frequency = new Map<number, number>();
  for (const key of keys) {
    for (let i = 0; i < key.length; i++) {
      const unit = key.charCodeAt(i);
      frequency.set(unit, (frequency.get(unit) ?? 0) + 1);
    }
  }
  const codeOf = new Uint16Array(0x10000);
  [...frequency.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .forEach(([unit], i) => (codeOf[unit] = i + 1));
  return codeOf;
}

function compareCodes(a: Uint16Array, b: Uint16Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Growing arrays and a list of free slots. Placing a node's children tries free slots in order for
 * its first child; a slot that keeps failing (it sits among taken ones) is dropped from the search
 * after a few tries, as darts does with its density check, so placement does not turn quadratic.
 */
class ArrayBuilder {
  base = new Int32Array(1024);
  check = new Int32Array(1024).fill(-1);
  output = new Int32Array(1024);
  depth = new Uint16Array(1024);
  /** Doubly linked list of the free slots still worth trying; slot `capacity` is its sentinel. */
  private nextFree = new Int32Array(1025);
  private prevFree = new Int32Array(1025);
  private failures = new Uint8Array(1024);
  private capacity = 0;
  /** One past the highest taken slot. */
  end = 0;

  constructor() {
    this.grow(1024);
  }

  occupy(slot: number, parent: number): void {
    this.ensure(slot + 1);
    this.unlink(slot);
    this.check[slot] = parent;
    if (slot >= this.end) this.end = slot + 1;
  }

  /** Finds a base where every child slot is free, takes the slots and returns the base. */
  place(codes: readonly number[], parent: number): number {
    const first = codes[0]!;
    let slot = this.nextFree[this.capacity]!;
    for (;;) {
      if (slot === this.capacity) {
        // Out of free slots: the new ones are appended to the list, so the search goes on there.
        const old = this.capacity;
        this.grow(old * 2);
        slot = old;
      }
      const base = slot - first;
      if (base >= 0 && this.fits(base, codes)) {
        this.base[parent] = base;
        for (const code of codes) this.occupy(base + code, parent);
        return base;
      }
      const after = this.nextFree[slot]!;
      if (base >= 0 && ++this.failures[slot]! > 32) this.unlink(slot);
      slot = after;
    }
  }

  private fits(base: number, codes: readonly number[]): boolean {
    this.ensure(base + codes[codes.length - 1]! + 1);
    for (const code of codes) if (this.check[base + code] !== -1) return false;
    return true;
  }

  private ensure(size: number): void {
    let capacity = this.capacity;
    while (capacity < size) capacity *= 2;
    if (capacity > this.capacity) this.grow(capacity);
  }

  private unlink(slot: number): void {
    const prev = this.prevFree[slot]!;
    const next = this.nextFree[slot]!;
    if (prev === -2) return; // already out of the list
    this.nextFree[prev] = next;
    this.prevFree[next] = prev;
    this.prevFree[slot] = -2;
  }

  private grow(capacity: number): void {
    const old = this.capacity;
    if (old > 0) {
      this.base = resized(this.base, capacity);
      this.output = resized(this.output, capacity);
      this.depth = resized(this.depth, capacity);
      this.failures = resized(this.failures, capacity);
      const check = new Int32Array(capacity).fill(-1);
      check.set(this.check);
      this.check = check;
    }
    // The sentinel moves from `old` to `capacity`; the new slots old..capacity-1 join the list's tail.
    const nextFree = new Int32Array(capacity + 1);
    const prevFree = new Int32Array(capacity + 1);
    nextFree.set(this.nextFree.subarray(0, old));
    prevFree.set(this.prevFree.subarray(0, old));
    const head = old > 0 ? this.nextFree[old]! : capacity;
    const tail = old > 0 ? this.prevFree[old]! : capacity;
    for (let slot = old; slot < capacity; slot++) {
      prevFree[slot] = slot === old ? (tail === old ? capacity : tail) : slot - 1;
      nextFree[slot] = slot + 1;
    }
    if (tail !== old && old > 0) nextFree[tail] = old;
    if (head !== old && old > 0) prevFree[head] = capacity;
    nextFree[capacity] = head === old || old === 0 ? old : head;
    prevFree[capacity] = capacity - 1;
    this.nextFree = nextFree;
    this.prevFree = prevFree;
    this.capacity = capacity;
  }
}

function resized<T extends Int32Array | Uint16Array | Uint8Array>(array: T, length: number): T {
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array);
  return next;
}
