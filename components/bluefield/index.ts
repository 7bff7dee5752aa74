// The bluefield target's Pulumi components (BlueFieldSegmentation) are exported from here.
export {};
