// A short message at the bottom of the screen, optionally with one action (Undo). It stays for
// `duration` ms, long enough to read and reach; the action button can be reached by keyboard.
import { h, replace } from '../dom.js';

let hideTimer = null;
let current = null;

/**
 * Shows `text`; with `action` ({ label, run }), a button that runs it and closes the snackbar.
 * Resolves with true when the action was taken, false when the snackbar went away by itself or
 * was replaced.
 */
export function showSnackbar(text, { action = null, duration = 6000 } = {}) {
  const bar = document.getElementById('snackbar');
  current?.(false);
  clearTimeout(hideTimer);
  return new Promise((resolve) => {
    const close = (taken) => {
      if (current !== close) return;
      current = null;
      clearTimeout(hideTimer);
      bar.hidden = true;
      replace(bar);
      resolve(taken);
    };
    current = close;
    const button = action
      ? h('button', { type: 'button', onclick: async () => { close(true); await action.run(); } }, action.label)
      : null;
    replace(bar, h('span', null, text), button);
    bar.hidden = false;
    hideTimer = setTimeout(() => close(false), duration);
  });
}

export function hideSnackbar() {
  current?.(false);
}
