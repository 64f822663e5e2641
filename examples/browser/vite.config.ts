import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import stackless from 'stackless/vite';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export default defineConfig({
  // Relative asset URLs: the built page works from any directory it is served from.
  base: './',
  plugins: [stackless()],
  // In a project of your own, `stackless` comes from node_modules and this block goes away.
  // Inside this repository the page takes the runtime from its TypeScript sources.
  resolve: {
    alias: [
      { find: /^stackless$/, replacement: repo('runtime/index.ts') },
      { find: /^stackless\/internal$/, replacement: repo('runtime/internal.ts') },
    ],
  },
  build: { target: 'es2022' },
});
