// Copies the BarcodeDetector polyfill (an ES module) and its ZXing wasm from node_modules into
// vendor/barcode-detector/, where the app loads them from when scanning starts. vendor/ is
// generated (and ignored by git): run `npm ci && npm run vendor` in pwa/ (`make pwa-vendor`).
import { copyFileSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pwa = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(pwa, 'vendor', 'barcode-detector');
const files = [
  // The ponyfill entry and the module it imports (ZXing's glue code, bundled by the package).
  ['node_modules/barcode-detector/dist/es/ponyfill.js', 'ponyfill.js'],
  ['node_modules/barcode-detector/dist/es/zxing-exported.js', 'zxing-exported.js'],
  // The reader's WebAssembly, found through setZXingModuleOverrides({ locateFile }).
  ['node_modules/zxing-wasm/dist/reader/zxing_reader.wasm', 'zxing_reader.wasm'],
  ['node_modules/barcode-detector/LICENSE', 'LICENSE-barcode-detector'],
  ['node_modules/zxing-wasm/LICENSE', 'LICENSE-zxing-wasm'],
];

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const [from, to] of files) {
  const source = join(pwa, from);
  if (!existsSync(source)) {
    console.error(`vendor: ${from} is missing: run \`npm ci\` in pwa/ first`);
    process.exit(1);
  }
  copyFileSync(source, join(target, to));
}
console.log(`vendor: copied ${files.length} files to ${target}`);
