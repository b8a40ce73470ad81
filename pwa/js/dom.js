// A tiny DOM builder, so that screens read like the markup they produce without a framework and
// without innerHTML: every text goes in as a text node, so server data can never become markup.
//
//   h('button', { class: 'button', onclick: renew, disabled: busy }, t('loans.renew'))
//
// Props: `on<event>` functions become listeners; `value`, `checked` and `selected` are set as
// properties (what the user sees), everything else as attributes; true is an empty attribute,
// false, null and undefined leave it out. Children may be strings, numbers, nodes, arrays or
// null/false (skipped), so conditional parts stay inline.

const PROPERTIES = new Set(['value', 'checked', 'selected']);
const SVG_NS = 'http://www.w3.org/2000/svg';

function applyProps(element, props) {
  for (const [name, value] of Object.entries(props || {})) {
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (PROPERTIES.has(name)) {
      element[name] = value;
    } else if (value === true) {
      element.setAttribute(name, '');
    } else if (value !== false && value !== null && value !== undefined) {
      element.setAttribute(name, String(value));
    }
  }
}

function appendChildren(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendChildren(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  applyProps(element, props);
  appendChildren(element, children);
  return element;
}

/** The same for SVG elements (the card's barcode). */
export function svg(tag, props, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  applyProps(element, props);
  appendChildren(element, children);
  return element;
}

/** Replaces the children of `element` with `children`. */
export function replace(element, ...children) {
  element.replaceChildren();
  appendChildren(element, children);
  return element;
}
