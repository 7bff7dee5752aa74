// The gcp target's Pulumi components (GcpSegmentation) are exported from here.
export {};
