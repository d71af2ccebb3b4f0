import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The long reliability runs (`npm run test:soak`): one suite after another, so their timings and
 * memory figures are not disturbed by each other. Each writes its figures to
 * test-artifacts/reliability/; scripts/reliability-report.ts puts them into docs/RELIABILITY.md.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/reliability/soak/*.soak.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 20 * 60_000,
    hookTimeout: 20 * 60_000,
  },
});
