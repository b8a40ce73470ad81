// Hash routing: #/search, #/record/ID, #/loans, #/holds, #/card, #/settings, #/libraries,
// #/login. Each screen is its own module, loaded when first shown. On every screen change the
// new screen's heading takes the focus (so screen readers announce where the user landed) and
// the page scrolls back to the top.
import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { isSignedIn } from './session.js';
import { hideSnackbar } from './ui/snackbar.js';

const ROUTES = [
  { pattern: /^\/search$/, nav: 'search', load: () => import('./screens/search.js') },
  { pattern: /^\/record\/([^/]+)$/, nav: 'search', load: () => import('./screens/record.js') },
  { pattern: /^\/loans$/, nav: 'loans', auth: true, load: () => import('./screens/loans.js') },
  { pattern: /^\/holds$/, nav: 'holds', auth: true, load: () => import('./screens/holds.js') },
  { pattern: /^\/card$/, nav: 'card', auth: true, load: () => import('./screens/card.js') },
  { pattern: /^\/settings$/, nav: null, load: () => import('./screens/settings.js') },
  { pattern: /^\/libraries$/, nav: 'libraries', load: () => import('./screens/libraries.js') },
  { pattern: /^\/login$/, nav: null, load: () => import('./screens/login.js') },
];
const DEFAULT_HASH = '#/search';

let controller = null;
let shownOnce = false;

/** The current location: { path, params, query } from "#/record/ID?x=1". */
export function currentLocation() {
  const raw = location.hash.replace(/^#/, '') || '/search';
  const [path, search = ''] = raw.split('?');
  return { path, query: new URLSearchParams(search), hash: `#${raw}` };
}

export function navigate(hash, { replace: replaceEntry = false } = {}) {
  if (location.hash === hash) {
    show();
  } else if (replaceEntry) {
    location.replace(hash);
  } else {
    location.hash = hash;
  }
}

/** Changes the query part of the current hash without showing the screen again. */
export function updateQuery(query) {
  const { path } = currentLocation();
  const search = query.toString();
  history.replaceState(history.state, '', `#${path}${search ? `?${search}` : ''}`);
}

/** Sends the user to the login screen, to come back here afterwards. */
export function goToLogin() {
  const { hash, path } = currentLocation();
  if (path === '/login') return;
  navigate(`#/login?next=${encodeURIComponent(hash)}`, { replace: true });
}

function markNavigation(nav) {
  for (const link of document.querySelectorAll('.tabbar a')) {
    if (link.dataset.route === nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const settings = document.getElementById('settings-link');
  if (nav === null && currentLocation().path === '/settings') settings.setAttribute('aria-current', 'page');
  else settings.removeAttribute('aria-current');
}

/** Shows the screen of the current hash; `keepFocus` when only the language changed. */
export async function show({ keepFocus = false } = {}) {
  const { path, query } = currentLocation();
  const route = ROUTES.find((candidate) => candidate.pattern.test(path));
  if (!route) {
    navigate(DEFAULT_HASH, { replace: true });
    return;
  }
  if (route.auth && !isSignedIn()) {
    goToLogin();
    return;
  }
  controller?.abort();
  controller = new AbortController();
  // A snackbar's action (Undo) belongs to the screen that showed it.
  hideSnackbar();
  const { signal } = controller;
  const params = path.match(route.pattern).slice(1).map(decodeURIComponent);
  let screen;
  try {
    screen = (await route.load()).default;
  } catch {
    // Offline before the service worker had cached this screen: a plain message, in place.
    if (!signal.aborted) replace(document.getElementById('main'), h('h1', { tabindex: '-1' }, 'Tessera'), h('p', null, t('common.offline')));
    return;
  }
  if (signal.aborted) return;

  const main = document.getElementById('main');
  const heading = h('h1', { id: 'screen-title', tabindex: '-1' }, screen.title(params));
  const body = h('div', { class: 'screen' });
  replace(main, heading, body);
  markNavigation(route.nav);
  const setTitle = (text) => {
    heading.textContent = text;
    document.title = `${text} · Tessera`;
  };
  setTitle(screen.title(params));
  if (shownOnce && !keepFocus) {
    window.scrollTo(0, 0);
    heading.focus();
  }
  shownOnce = true;
  await screen.render(body, { params, query, signal, setTitle });
}

export function startRouter() {
  window.addEventListener('hashchange', () => show());
  if (!location.hash || location.hash === '#') history.replaceState(null, '', DEFAULT_HASH);
  return show();
}
