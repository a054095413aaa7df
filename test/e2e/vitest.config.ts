/** End-to-end suite (`npm run test:e2e`): Debian's Chromium driven by playwright-core against a real server process, on a fresh build of web/. */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/build-web.ts', 'test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
