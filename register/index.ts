/**
 * `stackless/register`: run TypeScript and JavaScript with the "use tasklet" transform
 * applied, without a bundler:
 *
 *     node --import stackless/register app.ts
 *
 * Node 20 has only `module.register`, whose hooks run on a separate loader thread
 * (`./hooks.js`); they apply to everything loaded through `import` (ES modules), not to
 * `require()`. Source maps are attached inline and Node is told to use them, so stack
 * traces name the lines of the original files.
 */
import { register } from 'node:module';

process.setSourceMapsEnabled(true);
register('./hooks.js', import.meta.url, { data: { root: process.cwd() } });
