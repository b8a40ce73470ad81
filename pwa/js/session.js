// The patron's session. The access token lives in memory only (gone when the page closes); the
// refresh token is kept in localStorage so that the patron stays signed in. Refresh tokens
// rotate and reusing an old one revokes the whole session, so refreshes are serialised across
// tabs with a Web Lock and the current token is re-read inside it.
import { send, NetworkError, ServerError } from './api/transport.js';

const REFRESH_KEY = 'tessera.refreshToken';
const LOCK_NAME = 'tessera-session-refresh';
// Refresh a little before the server's expiry, so a request never races the deadline.
const EXPIRY_MARGIN_MS = 30_000;
export const ACCOUNT_CACHE = 'tessera-account';

let accessToken = null;
let accessExpiresAt = 0;
let refreshing = null;

/** The session ended (refused refresh, logout): the app shows the login screen. */
export class SessionEnded extends Error {
  constructor() { super('session ended'); this.name = 'SessionEnded'; }
}

function storedRefreshToken() {
  try { return localStorage.getItem(REFRESH_KEY); } catch { return null; }
}

function store({ accessToken: access, refreshToken, expiresIn }) {
  accessToken = access;
  accessExpiresAt = Date.now() + expiresIn * 1000 - EXPIRY_MARGIN_MS;
  try { localStorage.setItem(REFRESH_KEY, refreshToken); } catch { /* this tab only */ }
  window.dispatchEvent(new CustomEvent('tessera:session', { detail: { signedIn: true } }));
}

/** Forgets everything about the session, including the offline copy of the account. */
export async function forget() {
  accessToken = null;
  accessExpiresAt = 0;
  try { localStorage.removeItem(REFRESH_KEY); } catch { /* nothing stored */ }
  if ('caches' in window) await caches.delete(ACCOUNT_CACHE).catch(() => {});
  window.dispatchEvent(new CustomEvent('tessera:session', { detail: { signedIn: false } }));
}

export function isSignedIn() {
  return Boolean(accessToken || storedRefreshToken());
}

/** Signs in; resolves with the payload's errors ([] on success). */
export async function login(cardNumber, pin) {
  const { body } = await send('Login', { cardNumber, pin });
  const payload = body?.data?.login;
  if (!payload) throw new ServerError(body?.errors?.[0]?.message ?? 'login failed');
  if (payload.errors.length === 0) store(payload);
  return payload.errors;
}

export async function logout() {
  const refreshToken = storedRefreshToken();
  if (refreshToken) {
    // Best effort: signing out on this device must work offline too.
    await send('Logout', { refreshToken }).catch(() => {});
  }
  await forget();
}

async function refreshOnce() {
  const refreshToken = storedRefreshToken();
  if (!refreshToken) throw new SessionEnded();
  const { body } = await send('RefreshSession', { refreshToken });
  const payload = body?.data?.refreshSession;
  if (payload && payload.errors.length === 0) {
    store(payload);
    return accessToken;
  }
  if (payload) {
    // INVALID_TOKEN: the session was revoked or expired.
    await forget();
    throw new SessionEnded();
  }
  throw new ServerError(body?.errors?.[0]?.message ?? 'refresh failed');
}

/**
 * A new access token from the refresh token; one refresh at a time in this tab, and across tabs
 * when the browser has Web Locks. Throws SessionEnded when the server refuses, NetworkError when
 * offline (the session is kept).
 */
export function refresh() {
  refreshing ??= (navigator.locks
    ? navigator.locks.request(LOCK_NAME, () => refreshOnce())
    : refreshOnce()
  ).finally(() => { refreshing = null; });
  return refreshing;
}

/**
 * An access token for a request: the one in memory while fresh, else a refreshed one; null when
 * not signed in or offline (the service worker may still answer from the offline copy).
 */
export async function currentAccessToken() {
  if (accessToken && Date.now() < accessExpiresAt) return accessToken;
  if (!storedRefreshToken()) return null;
  try {
    return await refresh();
  } catch (error) {
    if (error instanceof NetworkError) return null;
    throw error;
  }
}
