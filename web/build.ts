/**
 * Builds the console and the embeddable viewer into web/dist with Vite: the console as a page
 * (index.html + hashed assets, cacheable forever), the viewer as one classic script, `embed.js`, so
 * a host page can load it with a plain `<script src>`. Run at `npm ci` (the root `prepare` script)
 * and by `serve` when web/dist is missing, so a fresh clone needs no separate build step.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_ROOT = path.dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = path.join(WEB_ROOT, 'dist');

export async function buildWeb(options: { quiet?: boolean } = {}): Promise<void> {
  // Vite is a build tool, not a runtime dependency: imported only when a build is needed.
  const { build } = await import('vite');
  const common = {
    root: WEB_ROOT,
    configFile: false as const,
    logLevel: options.quiet ? ('warn' as const) : ('info' as const),
    esbuild: { legalComments: 'none' as const },
  };
  await build({
    ...common,
    base: '/',
    build: { outDir: WEB_DIST, emptyOutDir: true, target: 'es2022', reportCompressedSize: false, rollupOptions: { input: path.join(WEB_ROOT, 'index.html') } },
  });
  await build({
    ...common,
    build: {
      outDir: WEB_DIST,
      emptyOutDir: false,
      target: 'es2022',
      reportCompressedSize: false,
      lib: { entry: path.join(WEB_ROOT, 'src/embed.ts'), formats: ['iife'], name: 'TrailproofViewer', fileName: () => 'embed.js' },
    },
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildWeb();
}
