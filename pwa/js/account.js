// The patron's account view (the `Me` query), shared by the loans, holds and card screens. The
// service worker keeps a copy of the last answer, so these screens work offline: `cachedAt` then
// says when the copy was made.
import { h } from './dom.js';
import { t } from './i18n.js';
import { request, SessionEnded } from './api/graphql.js';
import { goToLogin } from './router.js';
import { formatMoment } from './format.js';
import { errorBox, describeError } from './ui/messages.js';

/** Loads the account; on an ended session goes to login and resolves with null. */
export async function loadAccount({ signal } = {}) {
  const { data, cachedAt } = await request('Me', {}, { auth: true, signal });
  if (!data.me) throw new SessionEnded();
  return { me: data.me, cachedAt };
}

/** Renders the error of loadAccount() (or goes to login when the session ended). */
export function accountError(error) {
  if (error instanceof SessionEnded) {
    goToLogin();
    return null;
  }
  return errorBox(describeError(error));
}

/** The "offline copy from …" note, when the data is the service worker's copy. */
export function offlineNote(cachedAt) {
  if (!cachedAt) return null;
  return h('p', { class: 'message', role: 'status', id: 'offline-copy' }, t('account.offlineCopy', { when: formatMoment(cachedAt) }));
}

/** A warning when the patron's standing forbids holds and renewals. */
export function standingNote(standing) {
  if (!standing || standing.code === 'OK') return null;
  return h('div', { class: 'message error', role: 'alert' },
    h('strong', null, t(`standing.${standing.code}`)), ' ', standing.message);
}
