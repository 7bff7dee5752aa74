import { describe, expect, it } from "vitest";
import { AddressSet, INTERNET, SPECIAL_PURPOSE_V4, SPECIAL_PURPOSE_V6 } from "../../lib/net";

describe("special-purpose ranges and INTERNET", () => {
  it("lists parse strictly and stay in their family", () => {
    const v4 = AddressSet.fromCidrs(SPECIAL_PURPOSE_V4);
    const v6 = AddressSet.fromCidrs(SPECIAL_PURPOSE_V6);
    expect(v4.v6.isEmpty()).toBe(true);
    expect(v6.v4.isEmpty()).toBe(true);
    expect(INTERNET.overlaps(v4.union(v6))).toBe(false);
    expect(INTERNET.union(v4).union(v6).equals(AddressSet.ALL)).toBe(true);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",
    "100.128.0.0",
    "192.0.1.1",
    "192.31.196.1", // AS112-v4, globally reachable
    "192.52.193.1", // AMT, globally reachable
    "2606:4700::1",
    "2001:4860:4860::8888",
    "64:ff9b::8.8.8.8", // well-known NAT64 prefix is globally reachable
    "2001:3::1", // AMT
    "2001:4:112::1", // AS112-v6
    "2001:20::1", // ORCHIDv2
  ])("includes %s", (a) => {
    expect(INTERNET.has(a)).toBe(true);
  });

  it.each([
    "10.20.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "100.64.0.1",
    "127.0.0.1",
    "169.254.169.254",
    "0.0.0.0",
    "192.0.0.9",
    "192.0.2.1",
    "198.51.100.1",
    "203.0.113.1",
    "198.18.0.1",
    "198.19.255.255",
    "192.88.99.1",
    "224.0.0.1",
    "239.255.255.255",
    "240.0.0.1",
    "255.255.255.255",
    "fd00::1",
    "fc00::1",
    "fe80::1",
    "ff02::1",
    "::1",
    "::",
    "::ffff:8.8.8.8",
    "2001:db8::1",
    "3fff::1",
    "2001::1", // Teredo
    "2001:2::1", // benchmarking
    "2002::1", // 6to4
    "64:ff9b:1::1",
    "100::1",
    "5f00::1",
  ])("excludes %s", (a) => {
    expect(INTERNET.has(a)).toBe(false);
  });
});
