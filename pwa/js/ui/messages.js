// The common pieces of screens: a loading line, an error box, an empty state, and the
// translation of exceptions from the API into words.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { NetworkError, SessionEnded } from '../api/graphql.js';

export function loading() {
  return h('p', { class: 'meta', role: 'status' }, t('common.loading'));
}

export function errorBox(text) {
  return h('div', { class: 'message error', role: 'alert' }, text);
}

export function successBox(text) {
  return h('div', { class: 'message success', role: 'status' }, text);
}

export function infoBox(text) {
  return h('div', { class: 'message' }, text);
}

/** Words for an exception thrown by request(). */
export function describeError(error) {
  if (error instanceof NetworkError) return t('common.offline');
  if (error instanceof SessionEnded) return t('common.sessionEnded');
  return t('common.serverError');
}

/** The server's messages of a payload's `errors`, one sentence after the other. */
export function userErrorsText(errors) {
  return errors.map((error) => error.message).join(' ');
}
