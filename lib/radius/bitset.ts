/** A fixed-size set of small integers (0 … size-1), 32 to a word: unions and tests in place. */
export class Bitset {
  readonly words: Uint32Array;

  constructor(readonly size: number) {
    this.words = new Uint32Array((size + 31) >>> 5);
  }

  static full(size: number): Bitset {
    const b = new Bitset(size);
    b.words.fill(0xffffffff);
    const extra = b.words.length * 32 - size;
    if (extra > 0) b.words[b.words.length - 1] = 0xffffffff >>> extra;
    return b;
  }

  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  add(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
  }

  delete(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
  }

  /** this ∪= o */
  or(o: Bitset): void {
    const a = this.words;
    const b = o.words;
    for (let i = 0; i < a.length; i++) a[i]! |= b[i]!;
  }

  /** this ∩= o */
  and(o: Bitset): void {
    const a = this.words;
    const b = o.words;
    for (let i = 0; i < a.length; i++) a[i]! &= b[i]!;
  }

  /** Whether this and o share a member. */
  meets(o: Bitset): boolean {
    const a = this.words;
    const b = o.words;
    for (let i = 0; i < a.length; i++) if ((a[i]! & b[i]!) !== 0) return true;
    return false;
  }

  clone(): Bitset {
    const b = new Bitset(this.size);
    b.words.set(this.words);
    return b;
  }

  /** Members in ascending order. */
  *[Symbol.iterator](): IterableIterator<number> {
    const w = this.words;
    for (let i = 0; i < w.length; i++) {
      let x = w[i]!;
      while (x !== 0) {
        const low = x & -x;
        yield (i << 5) + 31 - Math.clz32(low);
        x ^= low;
      }
    }
  }

  /** How many members (optionally among those of `mask`). */
  count(mask?: Bitset): number {
    let n = 0;
    const w = this.words;
    const m = mask?.words;
    for (let i = 0; i < w.length; i++) {
      let x = m ? w[i]! & m[i]! : w[i]!;
      x -= (x >>> 1) & 0x55555555;
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      n += (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    return n;
  }
}
