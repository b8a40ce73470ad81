// UI strings in Italian (the default) and English. The language chosen here is also sent to the
// server as Accept-Language, so that the server's messages (refusals, notifications' texts in
// the account view) come in the same language as the interface.
import it from './strings/it.js';
import en from './strings/en.js';

const CATALOGS = { it, en };
const STORAGE_KEY = 'tessera.language';
export const LANGUAGES = ['it', 'en'];

let language = initialLanguage();

function initialLanguage() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(stored)) return stored;
  } catch { /* storage may be blocked: fall back to the default */ }
  return 'it';
}

export function getLanguage() {
  return language;
}

/** Changes the language and tells the app (a `languagechange` event on window) to re-render. */
export function setLanguage(next) {
  if (!LANGUAGES.includes(next) || next === language) return;
  language = next;
  try { localStorage.setItem(STORAGE_KEY, next); } catch { /* not remembered: fine */ }
  document.documentElement.lang = next;
  window.dispatchEvent(new CustomEvent('tessera:languagechange', { detail: next }));
}

/**
 * The string for `key` with {placeholders} filled from `vars`. With a numeric `vars.count`,
 * `key_one` / `key_other` are chosen by the language's plural rules when they exist.
 */
export function t(key, vars = {}) {
  const catalog = CATALOGS[language];
  let template;
  if (typeof vars.count === 'number') {
    const form = new Intl.PluralRules(language).select(vars.count);
    template = catalog[`${key}_${form}`] ?? catalog[`${key}_other`];
  }
  template ??= catalog[key] ?? CATALOGS.it[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

/** Whether a string exists (to translate codes such as loan statuses, with a fallback). */
export function has(key) {
  return key in CATALOGS[language];
}
