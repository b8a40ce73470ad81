// The digital library card (the card number as a Code 128 barcode for the desk's scanner), the
// patron's standing, the fees to pay, and signing out.
import { h, svg, replace } from '../dom.js';
import { t } from '../i18n.js';
import { logout } from '../session.js';
import { navigate } from '../router.js';
import { announce } from '../ui/announce.js';
import { loading } from '../ui/messages.js';
import { formatDate, formatEuro } from '../format.js';
import { code128Svg } from '../barcode/code128.js';
import { loadAccount, accountError, offlineNote } from '../account.js';

const STANDING_TONE = { OK: 'ok', SUSPENDED: 'bad', REVOKED: 'bad', EXPIRED: 'warn' };

function standingSection(standing) {
  return h('section', { class: 'card', 'aria-labelledby': 'standing-title' },
    h('h2', { id: 'standing-title' }, t('card.standing')),
    h('p', null, h('span', { class: `badge ${STANDING_TONE[standing.code] ?? 'neutral'}`, id: 'standing-code' }, t(`standing.${standing.code}`))),
    // For a card in good standing the badge says it all; otherwise the server says why and what to do.
    standing.code !== 'OK' && standing.message ? h('p', null, standing.message) : null,
    standing.blockedUntil ? h('p', { class: 'meta' }, t('card.blockedUntil', { date: formatDate(standing.blockedUntil) })) : null);
}

function feesSection(fees) {
  const items = fees.items.length
    ? h('ul', { class: 'list stack' }, fees.items.map((item) => h('li', { class: 'spread' },
      h('span', null, item.description), h('span', null, formatEuro(item.amount)))))
    : null;
  return h('section', { class: 'card', 'aria-labelledby': 'fees-title' },
    h('h2', { id: 'fees-title' }, t('card.fees')),
    Number(fees.total) > 0
      ? h('p', null, t('card.feesToPay'), ' ', h('strong', { id: 'fees-total' }, formatEuro(fees.total)))
      : h('p', { id: 'fees-total' }, t('card.noFees')),
    items,
    Number(fees.total) > 0 ? h('p', { class: 'meta' }, t('card.payAtDesk')) : null);
}

export default {
  title: () => t('card.title'),

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
    const barcode = code128Svg(me.cardNumber, {
      label: t('card.barcodeLabel', { number: me.cardNumber }), svgElement: svg,
    });
    const signOut = h('button', { type: 'button', class: 'button secondary', id: 'logout' }, t('card.logout'));
    signOut.addEventListener('click', async () => {
      signOut.disabled = true;
      await logout();
      announce(t('card.loggedOut'));
      navigate('#/login');
    });
    replace(container,
      offlineNote(cachedAt),
      h('section', { class: 'card', 'aria-labelledby': 'holder-title' },
        h('h2', { id: 'holder-title' }, me.name),
        h('div', { class: 'barcode', id: 'card-barcode' }, barcode),
        h('p', { class: 'card-number', id: 'card-number' }, me.cardNumber),
        h('p', { class: 'meta' }, t('card.showAtDesk')),
        me.preferredPickupLibrary
          ? h('p', { class: 'meta' }, t('card.pickupLibrary', { library: me.preferredPickupLibrary.name }))
          : null),
      standingSection(me.standing),
      feesSection(me.fees),
      h('div', { class: 'form-actions' }, signOut));
    announce(t('card.loaded'));
  },
};
