// The cilium target's Pulumi components (CiliumSegmentation) are exported from here.
export {};
