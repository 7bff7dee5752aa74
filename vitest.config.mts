import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "lib/**/*.test.ts", "components/**/*.test.ts", "cli/**/*.test.ts"],
    // The packed-tarball tests install into scratch projects: `npm run test:package` (CI runs it).
    exclude: ["**/node_modules/**", "test/package/**"],
    // Pulumi mocks are process-global state: keep each test file in its own worker,
    // and give the Pulumi program runs room on a 2-core machine.
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
