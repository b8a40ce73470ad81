// Tessera's service worker.
// - The app shell is cached at install, so the app opens offline; online, the network comes
//   first (always the current version) and refreshes the cache.
// - The last answer to the `Me` query (loans, holds, card) is kept, so those screens work
//   offline; the copy says when it was made (X-Tessera-Cached-At). The page deletes it on
//   sign-out.
// - A push shows its notification; a tap opens (or focuses) the app at the message's screen.

const SHELL_CACHE = 'tessera-shell-v1';
const ACCOUNT_CACHE = 'tessera-account';
const VENDOR_CACHE = 'tessera-vendor-v1';
const ACCOUNT_KEY = '/offline/account.json';
const NETWORK_TIMEOUT_MS = 4000;

// Every file of the app shell (tests/pwa/test_shell.py checks that this list is complete).
const SHELL = [
  '/',
  '/manifest.webmanifest',
  '/css/app.css',
  '/icons/icon.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-512.png',
  '/js/app.js',
  '/js/account.js',
  '/js/dom.js',
  '/js/format.js',
  '/js/geo.js',
  '/js/i18n.js',
  '/js/libraries-store.js',
  '/js/push.js',
  '/js/router.js',
  '/js/session.js',
  '/js/api/graphql.js',
  '/js/api/operations.js',
  '/js/api/transport.js',
  '/js/barcode/code128.js',
  '/js/scanner/detector.js',
  '/js/scanner/scanner.js',
  '/js/screens/card.js',
  '/js/screens/holds.js',
  '/js/screens/libraries.js',
  '/js/screens/loans.js',
  '/js/screens/login.js',
  '/js/screens/record.js',
  '/js/screens/search.js',
  '/js/screens/settings.js',
  '/js/strings/en.js',
  '/js/strings/it.js',
  '/js/ui/announce.js',
  '/js/ui/availability.js',
  '/js/ui/messages.js',
  '/js/ui/snackbar.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  const keep = new Set([SHELL_CACHE, ACCOUNT_CACHE, VENDOR_CACHE]);
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => !keep.has(name)).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

/** fetch() that gives up after `ms`, so a dead connection falls back to the cache quickly. */
function fetchWithTimeout(request, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    fetch(request).then(
      (response) => { clearTimeout(timer); resolve(response); },
      (error) => { clearTimeout(timer); reject(error); },
    );
  });
}

/** Shell files: network first (fresh when online), the cached copy when offline. */
async function shellResponse(request) {
  const url = new URL(request.url);
  const key = url.pathname === '/index.html' ? '/' : url.pathname;
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetchWithTimeout(request, NETWORK_TIMEOUT_MS);
    if (response.ok && response.type === 'basic') await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw error;
  }
}

/** The barcode polyfill and its wasm: large and versioned with the app, so cache first. */
async function vendorResponse(request) {
  const cache = await caches.open(VENDOR_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

/** GraphQL: passed through; the Me answer is copied for offline use, and served when offline. */
async function graphqlResponse(request) {
  let operationName = null;
  try {
    operationName = (await request.clone().json()).operationName ?? null;
  } catch { /* not JSON: nothing to keep */ }
  if (operationName !== 'Me') return fetch(request);

  const cache = await caches.open(ACCOUNT_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) {
      const body = await response.clone().json().catch(() => null);
      if (body?.data?.me) {
        await cache.put(ACCOUNT_KEY, new Response(JSON.stringify(body), {
          headers: { 'Content-Type': 'application/json', 'X-Tessera-Cached-At': new Date().toISOString() },
        }));
      }
    }
    return response;
  } catch (error) {
    const cached = await cache.match(ACCOUNT_KEY);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === '/graphql' && request.method === 'POST') {
    event.respondWith(graphqlResponse(request));
  } else if (request.method !== 'GET') {
    // Left to the browser.
  } else if (url.pathname.startsWith('/vendor/')) {
    event.respondWith(vendorResponse(request));
  } else if (SHELL.includes(url.pathname) || url.pathname === '/index.html') {
    // The app's own pages and files only: other pages of the server (GraphiQL) are left alone.
    event.respondWith(shellResponse(request));
  }
});

self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { body: event.data?.text() ?? '' };
  }
  const options = {
    body: message.body ?? '',
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    data: { url: message.url ?? '/', type: message.type ?? null },
    lang: message.lang,
  };
  if (message.tag) {
    // A later message with the same tag replaces the earlier one, and still alerts.
    options.tag = message.tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(message.title ?? 'Tessera', options));
});

/** The deep link of a notification, kept inside the app (another origin is never opened). */
function appUrl(link) {
  const url = new URL(link ?? '/', self.location.origin);
  return url.origin === self.location.origin ? url : new URL('/', self.location.origin);
}

/**
 * Shows the app at `link`: an open window of the app is focused and asked to go there (a hash
 * change keeps the page and its signed-in session); otherwise a new window opens.
 */
async function openApp(link) {
  const target = appUrl(link);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).origin === target.origin);
  if (!open) {
    await self.clients.openWindow(target.href);
    return;
  }
  // Focusing needs the notification click's user activation; without it, the message still
  // moves the window to the right screen.
  await open.focus().catch(() => {});
  open.postMessage({ type: 'navigate', hash: target.hash || '#/search' });
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openApp(event.notification.data?.url));
});
