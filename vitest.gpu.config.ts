// Only the tests that need an NVIDIA GPU and driver (`npm run test:gpu`); the default config leaves them out.
import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.gpu.test.ts', 'test/**/*.gpu.test.ts'],
    testTimeout: 60_000,
  },
});
