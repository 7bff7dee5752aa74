/**
 * The BlueField DPU target: Open vSwitch flow files (OpenFlow + conntrack) per DPU host, signed
 * bundles for the DPU agent, and an independent interpreter of OVS flow tables.
 */
export * from "./bundle";
export * from "./evaluate";
export * from "./flows";
export * from "./options";
export * from "./pipeline";
export * from "./render";
export * from "./resources";
export * from "./usage";
