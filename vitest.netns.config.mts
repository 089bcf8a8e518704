import { defineConfig } from "vitest/config";

// `npm run test:netns`: the multi-host tests (test/netns/), each process in its own network
// namespace with real network faults. They need root and iproute2, so they are not part of
// `npm test` (whose config, vitest.config.mts, takes only *.test.ts files: these are *.netns.ts).
export default defineConfig({
  test: {
    include: ["test/netns/**/*.netns.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 1,
  },
});
