// A barcode detector for EAN-13: the browser's own BarcodeDetector where it has one that reads
// EAN-13, else the `barcode-detector` polyfill (ZXing in WebAssembly). The polyfill is loaded
// only now, when scanning starts, and both it and its wasm come from this server
// (/vendor/barcode-detector/, copied from node_modules by `make pwa-vendor`), never from a CDN.

const FORMATS = ['ean_13'];
const VENDOR = '/vendor/barcode-detector/';

async function nativeDetector() {
  if (!('BarcodeDetector' in window)) return null;
  try {
    const supported = await window.BarcodeDetector.getSupportedFormats();
    if (!FORMATS.every((format) => supported.includes(format))) return null;
    return new window.BarcodeDetector({ formats: FORMATS });
  } catch {
    return null;
  }
}

async function polyfillDetector() {
  const { BarcodeDetector, setZXingModuleOverrides } = await import(`${VENDOR}ponyfill.js`);
  // The polyfill would fetch its wasm from a CDN by default: point it at ours.
  setZXingModuleOverrides({
    locateFile: (path, prefix) => (path.endsWith('.wasm') ? `${VENDOR}${path}` : prefix + path),
  });
  return new BarcodeDetector({ formats: FORMATS });
}

/** A detector with detect(source) -> [{ rawValue, format }]. */
export async function createDetector() {
  return (await nativeDetector()) ?? polyfillDetector();
}
