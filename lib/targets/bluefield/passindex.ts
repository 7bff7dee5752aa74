import { AddressSet, ConnectionSet, type IntervalSet, type IpFamily, ServiceSet } from "../../net";

/**
 * A pass set (what a DPU lets through from one port) indexed for the proof's questions: "what of
 * (sources × destinations × every service) gets through?". A question is answered from the few
 * products of the set that meet both ends, found by binary search over the set's canonical layers
 * (source, then destination), instead of intersecting the whole set.
 */

interface Piece<T> {
  lo: bigint;
  hi: bigint;
  item: T;
}

/** Disjoint keyed items, searchable by overlap with an IntervalSet. */
class DisjointIndex<T> {
  private readonly pieces: Array<Piece<T>> = [];

  constructor(items: ReadonlyArray<{ key: IntervalSet; item: T }>) {
    for (const { key, item } of items) for (const [lo, hi] of key.ranges) this.pieces.push({ lo, hi, item });
    this.pieces.sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  }

  /** The items whose key meets `q`, each once, in key order. */
  meeting(q: IntervalSet): T[] {
    const ps = this.pieces;
    const out: T[] = [];
    const rs = q.ranges;
    for (let r = 0; r < rs.length; r++) {
      const lo = rs[r]![0];
      const hi = rs[r]![1];
      // First piece ending at or after lo (pieces are disjoint and sorted, so their ends are too).
      let a = 0;
      let b = ps.length;
      while (a < b) {
        const m = (a + b) >> 1;
        if (ps[m]!.hi < lo) a = m + 1;
        else b = m;
      }
      for (let i = a; i < ps.length && ps[i]!.lo <= hi; i++) {
        const it = ps[i]!.item;
        if (!out.includes(it)) out.push(it);
      }
    }
    return out;
  }
}

interface DstLayer {
  dst: IntervalSet;
  services: ServiceSet;
}

interface SrcLayer {
  src: IntervalSet;
  dsts: DisjointIndex<DstLayer>;
}

/** One product of an answer: source and destination values of one family, and services. */
export interface Part {
  family: IpFamily;
  src: IntervalSet;
  dst: IntervalSet;
  services: ServiceSet;
}

export class PassIndex {
  private readonly byFamily: Record<IpFamily, DisjointIndex<SrcLayer>>;

  constructor(set: ConnectionSet) {
    // `cubes()` follows the canonical form: per family, source layers (disjoint), each with its
    // destination layers (disjoint), consecutively.
    const layers: Record<
      IpFamily,
      Array<{ src: IntervalSet; dsts: Array<{ key: IntervalSet; item: DstLayer }> }>
    > = { 4: [], 6: [] };
    for (const c of set.cubes()) {
      const family: IpFamily = c.src.v4.isEmpty() ? 6 : 4;
      const src = c.src.family(family);
      const dst = c.dst.family(family);
      const list = layers[family];
      let last = list[list.length - 1];
      if (!last || !(last.src === src || last.src.equals(src))) list.push((last = { src, dsts: [] }));
      last.dsts.push({ key: dst, item: { dst, services: c.services } });
    }
    const index = (f: IpFamily) =>
      new DisjointIndex(
        layers[f].map((l) => ({ key: l.src, item: { src: l.src, dsts: new DisjointIndex(l.dsts) } })),
      );
    this.byFamily = { 4: index(4), 6: index(6) };
  }

  /** The products of the set within `src` × `dst` (values of `family`), disjoint. */
  parts(family: IpFamily, src: IntervalSet, dst: IntervalSet): Part[] {
    const out: Part[] = [];
    if (src.isEmpty() || dst.isEmpty()) return out;
    for (const l of this.byFamily[family].meeting(src)) {
      const s = l.src.intersect(src);
      for (const d of l.dsts.meeting(dst))
        out.push({ family, src: s, dst: d.dst.intersect(dst), services: d.services });
    }
    return out;
  }
}

/** Every product of the whole space within `src` × `dst`. */
export function allParts(family: IpFamily, src: IntervalSet, dst: IntervalSet): Part[] {
  return src.isEmpty() || dst.isEmpty() ? [] : [{ family, src, dst, services: ServiceSet.ALL }];
}

/** The union of the pairwise intersections of two lists of products (of one family each); `b` undefined: everything. */
export function meet(a: readonly Part[], b?: readonly Part[]): ConnectionSet[] {
  const out: ConnectionSet[] = [];
  if (b === undefined) {
    // The other side lets everything through.
    for (const p of a)
      out.push(
        ConnectionSet.of(
          AddressSet.ofFamily(p.family, p.src),
          AddressSet.ofFamily(p.family, p.dst),
          p.services,
        ),
      );
    return out;
  }
  for (const p of a)
    for (const q of b) {
      const src = p.src.intersect(q.src);
      if (src.isEmpty()) continue;
      const dst = p.dst.intersect(q.dst);
      if (dst.isEmpty()) continue;
      const services =
        p.services === ServiceSet.ALL
          ? q.services
          : q.services === ServiceSet.ALL
            ? p.services
            : p.services.intersect(q.services);
      if (services.isEmpty()) continue;
      out.push(
        ConnectionSet.of(AddressSet.ofFamily(p.family, src), AddressSet.ofFamily(p.family, dst), services),
      );
    }
  return out;
}
