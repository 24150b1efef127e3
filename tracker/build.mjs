// Builds dist/pulso.min.js and dist/snippet.min.js, and copies the tracker into the Python package
// (src/pulso/web/static/vendor/pulso.js) so that serving it needs no node. `--check` only verifies that
// the committed copy matches a fresh build.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const { version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const packaged = join(here, '..', 'src', 'pulso', 'web', 'static', 'vendor', 'pulso.js');
const GZIP_BUDGET = 6144;

async function minify(entry, options) {
  const result = await build({
    entryPoints: [join(here, 'src', entry)],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2017',
    legalComments: 'none',
    write: false,
    ...options,
  });
  return result.outputFiles[0].text;
}

const tracker = await minify('pulso.js', {
  define: { __PULSO_VERSION__: JSON.stringify(version) },
  banner: { js: `/*! pulso.js ${version} | Apache-2.0 | built from tracker/src by npm run build */` },
});
const gzipped = gzipSync(tracker, { level: 9 }).length;

if (process.argv.includes('--check')) {
  let committed = null;
  try {
    committed = readFileSync(packaged, 'utf8');
  } catch (e) {}
  if (committed !== tracker) {
    console.error(`${packaged} does not match a fresh build: run npm run build in tracker/`);
    process.exit(1);
  }
} else {
  const snippet = await minify('snippet.js', { bundle: false, format: undefined });
  mkdirSync(join(here, 'dist'), { recursive: true });
  mkdirSync(dirname(packaged), { recursive: true });
  writeFileSync(join(here, 'dist', 'pulso.min.js'), tracker);
  writeFileSync(join(here, 'dist', 'snippet.min.js'), snippet);
  writeFileSync(packaged, tracker);
}
console.log(`pulso.js ${version}: ${tracker.length} bytes, ${gzipped} gzipped (budget ${GZIP_BUDGET})`);
if (gzipped > GZIP_BUDGET) {
  console.error('over the size budget');
  process.exit(1);
}
