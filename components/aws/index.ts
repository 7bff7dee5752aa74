// The aws target's Pulumi components (AwsSegmentation) are exported from here.
export {};
