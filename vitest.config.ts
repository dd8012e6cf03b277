import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.gpu.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One file at a time: on two cores, process-heavy integration files starved each other's
    // readiness checks, and the live-view key tests lost keys while a tmux test ran beside them.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
