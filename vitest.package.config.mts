import { defineConfig } from "vitest/config";

// `npm run test:package`: the packed tarball installed into projects outside the repository
// (test/package). Slow: npm installs and type-checks of provider SDKs; one file at a time.
export default defineConfig({
  test: {
    include: ["test/package/**/*.test.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 1_200_000,
    hookTimeout: 1_200_000,
  },
});
