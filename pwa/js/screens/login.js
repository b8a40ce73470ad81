// Signing in with the card number (or codice fiscale) and PIN.
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { login, isSignedIn } from '../session.js';
import { navigate } from '../router.js';
import { errorBox, describeError } from '../ui/messages.js';

/** Only in-app destinations are followed after signing in. */
function nextHash(query) {
  const next = query.get('next');
  return next && /^#\/[\w/%.-]*(\?.*)?$/.test(next) && !next.startsWith('#/login') ? next : '#/loans';
}

export default {
  title: () => t('login.title'),

  async render(container, { query }) {
    if (isSignedIn()) {
      navigate(nextHash(query), { replace: true });
      return;
    }
    const card = h('input', {
      id: 'card-number', name: 'username', autocomplete: 'username', autocapitalize: 'characters',
      spellcheck: 'false', required: true, 'aria-describedby': 'card-hint',
    });
    const pin = h('input', {
      id: 'pin', name: 'password', type: 'password', inputmode: 'numeric', autocomplete: 'current-password', required: true,
    });
    const output = h('div');
    const submit = h('button', { type: 'submit', class: 'button' }, t('login.submit'));
    const form = h('form', { novalidate: true },
      h('label', { for: 'card-number' }, t('login.card')),
      card,
      h('p', { id: 'card-hint', class: 'field-hint' }, t('login.cardHint')),
      h('label', { for: 'pin' }, t('login.pin')),
      pin,
      output,
      h('div', { class: 'form-actions' }, submit));

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const cardNumber = card.value.trim().toUpperCase();
      if (!cardNumber || !pin.value) {
        replace(output, errorBox(t('login.missing')));
        (cardNumber ? pin : card).focus();
        return;
      }
      submit.disabled = true;
      try {
        const errors = await login(cardNumber, pin.value);
        if (errors.length) {
          const box = errorBox(errors.map((error) => error.message).join(' '));
          replace(output, box);
          pin.value = '';
          pin.focus();
          return;
        }
        navigate(nextHash(query), { replace: true });
      } catch (error) {
        replace(output, errorBox(describeError(error)));
      } finally {
        submit.disabled = false;
      }
    });
    replace(container, h('p', null, t('login.intro')), form);
  },
};
