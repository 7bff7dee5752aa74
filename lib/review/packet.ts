/** A witness packet as people read it: `10.200.0.1 -> 10.10.1.1 tcp/22` (port only where the protocol has one). */
export function formatPacket(
  p: { src: string; dst: string; protocol: string; port?: number },
  arrow: "->" | "→" = "->",
): string {
  return `${p.src} ${arrow} ${p.dst} ${p.protocol}${p.port !== undefined ? `/${p.port}` : ""}`;
}
