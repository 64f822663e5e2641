import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import stackless from './plugin-vite/index.js';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // The project's own tests go through its own Vite plugin: any test file or source file
  // with "use tasklet" is compiled exactly as a user's Vite/Vitest project would compile it.
  // tests/.tmp holds modules the fixture runner compiled (or deliberately left native) itself;
  // they must reach Node exactly as written there.
  plugins: [stackless({ exclude: [/[\\/]node_modules[\\/]/, /[\\/]tests[\\/]\.tmp[\\/]/] })],
  resolve: {
    // Tests run from source: the package's entry points map to their TypeScript files.
    alias: [
      { find: /^stackless$/, replacement: source('./runtime/index.ts') },
      { find: /^stackless\/internal$/, replacement: source('./runtime/internal.ts') },
      { find: /^stackless\/transform$/, replacement: source('./transformer/index.ts') },
      { find: /^stackless\/babel$/, replacement: source('./babel/index.ts') },
      { find: /^stackless\/rollup$/, replacement: source('./plugin-rollup/index.ts') },
      { find: /^stackless\/vite$/, replacement: source('./plugin-vite/index.ts') },
    ],
  },
  test: {
    exclude: ['**/node_modules/**', '**/.git/**', 'dist/**', 'fixtures/projects/**', 'tests/.tmp/**'],
    // tests/plugins runs the built package (dist/) in child processes: build it once, up front.
    globalSetup: ['./tests/plugins/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
