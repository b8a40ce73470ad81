// My holds: where each stands (queue position, in transit, ready with the last day to collect),
// the estimated ready date, and cancelling (a second tap confirms, so a stray tap never loses a
// place in the queue). Holds that ended in the last 14 days are listed apart.
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { request } from '../api/graphql.js';
import { announce } from '../ui/announce.js';
import { errorBox, successBox, loading, describeError, userErrorsText } from '../ui/messages.js';
import { formatDate } from '../format.js';
import { loadAccount, accountError, offlineNote, standingNote } from '../account.js';

const ACTIVE = new Set(['WAITING', 'IN_TRANSIT', 'READY']);
const TONE = { READY: 'ok', IN_TRANSIT: 'warn', WAITING: 'neutral', EXPIRED: 'bad', CANCELLED: 'neutral', FULFILLED: 'ok' };
const CONFIRM_MS = 5000;

function details(hold) {
  const lines = [];
  const library = hold.pickupLibrary.name;
  if (hold.status === 'READY') {
    lines.push(h('p', null, h('strong', null, t('holds.readyUntil', { date: formatDate(hold.pickupDeadline, { withWeekday: true }), library }))));
  } else if (hold.status === 'IN_TRANSIT') {
    lines.push(h('p', null, t('holds.inTransitTo', { library })));
  } else if (hold.status === 'WAITING') {
    lines.push(h('p', null, t('holds.position', { position: hold.position }), ' · ', t('holds.pickupAt', { library })));
    if (hold.suspendedUntil) lines.push(h('p', { class: 'meta' }, t('holds.suspendedUntil', { date: formatDate(hold.suspendedUntil) })));
    if (hold.estimatedReadyDate) lines.push(h('p', { class: 'meta' }, t('holds.estimatedReady', { date: formatDate(hold.estimatedReadyDate) })));
  } else {
    lines.push(h('p', { class: 'meta' }, t('holds.pickupAt', { library })));
  }
  return lines;
}

function holdCard(hold, onCancel) {
  const result = h('div', { 'aria-live': 'polite' });
  let cancel = null;
  // Offline (the saved copy) there is nothing to cancel with: no button.
  if (ACTIVE.has(hold.status) && onCancel) {
    let armed = false;
    let timer = null;
    cancel = h('button', { type: 'button', class: 'button danger small cancel-hold' },
      t('holds.cancel'), h('span', { class: 'visually-hidden' }, ` ${hold.record.title}`));
    cancel.addEventListener('click', () => {
      if (!armed) {
        armed = true;
        cancel.firstChild.textContent = t('holds.confirmCancel');
        announce(t('holds.confirmCancel'));
        timer = setTimeout(() => { armed = false; cancel.firstChild.textContent = t('holds.cancel'); }, CONFIRM_MS);
        return;
      }
      clearTimeout(timer);
      onCancel(hold, { button: cancel, result });
    });
  }
  return h('li', { class: 'card hold', 'data-hold-id': hold.id },
    h('div', { class: 'spread' },
      h('h2', null, h('a', { href: `#/record/${encodeURIComponent(hold.record.id)}` }, hold.record.title)),
      h('span', { class: `badge ${TONE[hold.status] ?? 'neutral'}` }, t(`holdStatus.${hold.status}`))),
    details(hold),
    cancel ? h('div', { class: 'row' }, cancel) : null,
    result);
}

export default {
  title: () => t('holds.title'),

  async render(container, { signal }) {
    replace(container, loading());
    let account;
    try {
      account = await loadAccount({ signal });
    } catch (error) {
      if (error.name !== 'AbortError') replace(container, accountError(error));
      return;
    }
    const { me, cachedAt } = account;
    const status = h('div', { id: 'holds-status', tabindex: '-1' });

    const onCancel = async (hold, { button, result }) => {
      button.disabled = true;
      try {
        const { data } = await request('CancelHold', { holdId: hold.id }, { auth: true });
        const { errors } = data.cancelHold;
        if (errors.length) {
          replace(result, errorBox(userErrorsText(errors)));
          button.disabled = false;
          return;
        }
        // The list is drawn again from the server; the message keeps the focus in its place.
        await this.render(container, { signal });
        const place = container.querySelector('#holds-status');
        replace(place, successBox(t('holds.cancelled', { title: hold.record.title })));
        place.focus();
      } catch (error) {
        replace(result, errorBox(describeError(error)));
        button.disabled = false;
      }
    };

    const active = me.holds.filter((hold) => ACTIVE.has(hold.status));
    const ended = me.holds.filter((hold) => !ACTIVE.has(hold.status));
    const cards = (holds) => holds.map((hold) => holdCard(hold, cachedAt ? null : onCancel));
    replace(container,
      offlineNote(cachedAt),
      standingNote(me.standing),
      status,
      active.length
        ? [h('p', null, t('holds.count', { count: active.length })), h('ul', { class: 'list', id: 'holds' }, cards(active))]
        : h('p', null, t('holds.none')),
      ended.length
        ? h('section', { 'aria-labelledby': 'ended-title' },
          h('h2', { id: 'ended-title' }, t('holds.ended')),
          h('ul', { class: 'list', id: 'ended-holds' }, cards(ended)))
        : null);
    announce(t('holds.count', { count: active.length }));
  },
};
