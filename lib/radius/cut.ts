/**
 * Maximum flow with unit and unbounded capacities (Dinic), for minimum edge cuts of the hop graph:
 * by max-flow/min-cut, the saturated edges leaving what the source still reaches in the residual
 * graph are a cut of least total capacity. Unbounded edges are never cut.
 */
export class FlowNetwork {
  private readonly head: number[];
  private readonly to: number[] = [];
  private readonly cap: number[] = [];
  private readonly next: number[] = [];
  /** The unit edges, by id, with what the caller labelled them. */
  private readonly labels = new Map<number, number>();

  constructor(readonly vertices: number) {
    this.head = new Array(vertices).fill(-1);
  }

  get edges(): number {
    return this.to.length / 2;
  }

  /** An edge u → v of capacity 1 (label: the caller's id for it) or unbounded (label undefined). */
  add(u: number, v: number, label?: number): void {
    const id = this.to.length;
    this.to.push(v, u);
    this.cap.push(label === undefined ? Number.POSITIVE_INFINITY : 1, 0);
    this.next.push(this.head[u]!, this.head[v]!);
    this.head[u] = id;
    this.head[v] = id + 1;
    if (label !== undefined) this.labels.set(id, label);
  }

  /** The labels of a minimum cut between s and t (the flow saturates it), or undefined when no finite cut exists. */
  minCut(s: number, t: number): number[] | undefined {
    const n = this.vertices;
    const level = new Int32Array(n);
    const iter = new Int32Array(n);
    const bfs = (): boolean => {
      level.fill(-1);
      level[s] = 0;
      const queue = [s];
      for (let h = 0; h < queue.length; h++) {
        const u = queue[h]!;
        for (let e = this.head[u]!; e !== -1; e = this.next[e]!)
          if (this.cap[e]! > 0 && level[this.to[e]!] === -1) {
            level[this.to[e]!] = level[u]! + 1;
            queue.push(this.to[e]!);
          }
      }
      return level[t] !== -1;
    };
    // Iterative depth-first augmentation along the level graph, one unit path at a time (every
    // s-t path crosses a unit edge when a finite cut exists).
    const augment = (): number => {
      const path: number[] = [];
      let u = s;
      while (true) {
        if (u === t) {
          let f = Number.POSITIVE_INFINITY;
          for (const e of path) f = Math.min(f, this.cap[e]!);
          if (!Number.isFinite(f)) return Number.POSITIVE_INFINITY;
          for (const e of path) {
            this.cap[e]! -= f;
            this.cap[e ^ 1]! += f;
          }
          return f;
        }
        let e = iter[u]!;
        for (; e !== -1; e = this.next[e]!)
          if (this.cap[e]! > 0 && level[this.to[e]!] === level[u]! + 1) break;
        iter[u] = e;
        if (e === -1) {
          if (path.length === 0) return 0;
          level[u] = -1;
          const back = path.pop()!;
          u = this.to[back ^ 1]!;
          iter[u] = this.next[iter[u]!]!;
          continue;
        }
        path.push(e);
        u = this.to[e]!;
      }
    };
    while (bfs()) {
      for (let v = 0; v < n; v++) iter[v] = this.head[v]!;
      for (let f = augment(); f > 0; f = augment()) if (!Number.isFinite(f)) return undefined;
    }
    // What s still reaches; the unit edges leaving it are the cut.
    const seen = new Uint8Array(n);
    seen[s] = 1;
    const queue = [s];
    for (let h = 0; h < queue.length; h++)
      for (let e = this.head[queue[h]!]!; e !== -1; e = this.next[e]!)
        if (this.cap[e]! > 0 && !seen[this.to[e]!]) {
          seen[this.to[e]!] = 1;
          queue.push(this.to[e]!);
        }
    const cut: number[] = [];
    for (const [e, label] of this.labels) if (seen[this.to[e ^ 1]!] && !seen[this.to[e]!]) cut.push(label);
    return cut;
  }
}
