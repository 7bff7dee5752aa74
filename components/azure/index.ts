// The azure target's Pulumi components (AzureSegmentation) are exported from here.
export {};
