// Code 128 as SVG, for the digital library card: the desk's scanners read it from the phone's
// screen as they read the plastic card. Code set B covers printable ASCII (card numbers such as
// "C0001" or a codice fiscale); an all-digit number of even length uses code set C, which packs
// two digits per symbol and so gives a shorter, easier to read barcode.

// Bar and space widths (in modules) of the symbols 0..106; 106 is the stop pattern.
const PATTERNS = [
  '212222', '222122', '222221', '121223', '121322', '131222', '122213', '122312', '132212', '221213',
  '221312', '231212', '112232', '122132', '122231', '113222', '123122', '123221', '223211', '221132',
  '221231', '213212', '223112', '312131', '311222', '321122', '321221', '312212', '322112', '322211',
  '212123', '212321', '232121', '111323', '131123', '131321', '112313', '132113', '132311', '211313',
  '231113', '231311', '112133', '112331', '132131', '113123', '113321', '133121', '313121', '211331',
  '231131', '213113', '213311', '213131', '311123', '311321', '331121', '312113', '312311', '332111',
  '314111', '221411', '431111', '111224', '111422', '121124', '121421', '141122', '141221', '112214',
  '112412', '122114', '122411', '142112', '142211', '241211', '221114', '413111', '241112', '134111',
  '111242', '121142', '121241', '114212', '124112', '124211', '411212', '421112', '421211', '212141',
  '214121', '412121', '111143', '111341', '131141', '114113', '114311', '411113', '411311', '113141',
  '114131', '311141', '411131', '211412', '211214', '211232', '2331112',
];
const START_B = 104;
const START_C = 105;
const STOP = 106;
const QUIET_ZONE = 10; // modules of white on each side, as the standard asks

/** The symbol values for `text`, start and check symbols included, stop excluded. */
export function code128Values(text) {
  if (!/^[\x20-\x7e]*$/.test(text) || text.length === 0) {
    throw new RangeError('Code 128 B/C encodes printable ASCII only');
  }
  const useC = /^(\d\d)+$/.test(text) && text.length >= 4;
  const values = [useC ? START_C : START_B];
  if (useC) {
    for (let i = 0; i < text.length; i += 2) values.push(Number(text.slice(i, i + 2)));
  } else {
    for (const char of text) values.push(char.charCodeAt(0) - 32);
  }
  // The check symbol: the start value plus each symbol times its position, modulo 103.
  const checksum = values.reduce((sum, value, index) => sum + value * Math.max(index, 1), 0) % 103;
  values.push(checksum);
  return values;
}

/** The run widths (bar, space, bar, ...) of the whole barcode, stop pattern included. */
export function code128Widths(text) {
  const symbols = [...code128Values(text), STOP];
  return symbols.flatMap((value) => [...PATTERNS[value]].map(Number));
}

/**
 * An <svg> element with the barcode, `height` modules tall, scaled by CSS. It is one image for
 * assistive technology, named by `label`.
 */
export function code128Svg(text, { label, height = 50, svgElement }) {
  const widths = code128Widths(text);
  const total = widths.reduce((sum, width) => sum + width, 0) + 2 * QUIET_ZONE;
  const bars = [];
  let x = QUIET_ZONE;
  widths.forEach((width, index) => {
    // Even positions are bars, odd ones spaces.
    if (index % 2 === 0) bars.push(`M${x} 0h${width}v${height}h-${width}z`);
    x += width;
  });
  return svgElement('svg', {
    viewBox: `0 0 ${total} ${height}`, role: 'img', 'aria-label': label,
    preserveAspectRatio: 'none', 'shape-rendering': 'crispEdges',
  },
  svgElement('rect', { width: total, height, fill: '#fff' }),
  svgElement('path', { d: bars.join(''), fill: '#000' }));
}
