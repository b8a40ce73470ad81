// Settings: the interface language for everyone; for a signed-in patron, notifications (push on
// this device, SMS and its number, e-mail, quiet hours, the language of the messages), the
// preferred pickup library and the PIN.
import { h, replace } from '../dom.js';
import { t, getLanguage, setLanguage, LANGUAGES } from '../i18n.js';
import { request } from '../api/graphql.js';
import { isSignedIn } from '../session.js';
import { errorBox, successBox, loading, describeError, userErrorsText } from '../ui/messages.js';
import { loadAccount, accountError } from '../account.js';
import { loadLibraries } from '../libraries-store.js';
import { pushSupported, currentSubscription, turnOnPush, turnOffPush } from '../push.js';

const LANGUAGE_NAMES = { it: 'Italiano', en: 'English' };

function languageSection() {
  return h('section', { class: 'card', 'aria-labelledby': 'language-title' },
    h('h2', { id: 'language-title' }, t('settings.language')),
    h('fieldset', { class: 'plain' },
      h('legend', { class: 'visually-hidden' }, t('settings.language')),
      LANGUAGES.map((language) => h('label', { class: 'check', lang: language },
        h('input', {
          type: 'radio', name: 'ui-language', value: language, checked: getLanguage() === language,
          onchange: () => setLanguage(language),
        }),
        LANGUAGE_NAMES[language]))));
}

/** Runs `action` with `button` disabled and its outcome in `output`. */
async function withFeedback(button, output, action) {
  button.disabled = true;
  try {
    const text = await action();
    if (text) replace(output, successBox(text));
  } catch (error) {
    replace(output, errorBox(error.userMessage ?? describeError(error)));
  } finally {
    button.disabled = false;
  }
}

function refusal(errors) {
  const error = new Error('refused');
  error.userMessage = userErrorsText(errors);
  return error;
}

async function pushSection(preferences) {
  const output = h('div', { 'aria-live': 'polite', id: 'push-result' });
  if (!pushSupported()) {
    return h('div', null, h('p', null, t('settings.pushUnsupported')));
  }
  const subscribed = Boolean(await currentSubscription().catch(() => null));
  const on = subscribed && preferences.push && Notification.permission === 'granted';
  const state = h('p', { id: 'push-state' }, on ? t('settings.pushOn') : t('settings.pushOff'));
  const button = h('button', { type: 'button', class: 'button secondary', id: 'push-toggle' },
    on ? t('settings.pushTurnOff') : t('settings.pushTurnOn'));
  let isOn = on;
  button.addEventListener('click', () => withFeedback(button, output, async () => {
    const outcome = isOn ? await turnOffPush() : await turnOnPush();
    if (!outcome.ok) {
      if (outcome.reason === 'denied') throw Object.assign(new Error('denied'), { userMessage: t('settings.pushDenied') });
      throw Object.assign(new Error('refused'), { userMessage: outcome.message });
    }
    isOn = !isOn;
    state.textContent = isOn ? t('settings.pushOn') : t('settings.pushOff');
    button.textContent = isOn ? t('settings.pushTurnOff') : t('settings.pushTurnOn');
    return isOn ? t('settings.pushEnabled') : t('settings.pushDisabled');
  }));
  return h('div', null, h('h3', null, t('settings.push')), state, button, output);
}

function preferencesForm(preferences) {
  const output = h('div', { 'aria-live': 'polite' });
  const email = h('input', { type: 'checkbox', id: 'pref-email', checked: preferences.email });
  const sms = h('input', { type: 'checkbox', id: 'pref-sms', checked: preferences.sms });
  const phone = h('input', { type: 'tel', id: 'pref-phone', autocomplete: 'tel', value: preferences.phone ?? '', 'aria-describedby': 'phone-hint' });
  const quietStart = h('input', { type: 'time', id: 'quiet-start', value: preferences.quietHoursStart ?? '' });
  const quietEnd = h('input', { type: 'time', id: 'quiet-end', value: preferences.quietHoursEnd ?? '' });
  const language = h('select', { id: 'pref-language' },
    LANGUAGES.map((code) => h('option', { value: code, selected: preferences.language === code, lang: code }, LANGUAGE_NAMES[code])));
  const save = h('button', { type: 'submit', class: 'button' }, t('settings.save'));
  const form = h('form', { id: 'preferences' },
    h('label', { class: 'check', for: 'pref-email' }, email, t('settings.email')),
    h('label', { class: 'check', for: 'pref-sms' }, sms, t('settings.sms')),
    h('label', { for: 'pref-phone' }, t('settings.phone')),
    phone,
    h('p', { id: 'phone-hint', class: 'field-hint' }, t('settings.phoneHint')),
    h('fieldset', { class: 'plain' },
      h('legend', null, t('settings.quietHours')),
      h('div', { class: 'two-columns' },
        h('div', null, h('label', { for: 'quiet-start' }, t('settings.quietFrom')), quietStart),
        h('div', null, h('label', { for: 'quiet-end' }, t('settings.quietTo')), quietEnd)),
      h('p', { class: 'field-hint' }, t('settings.quietHint'))),
    h('label', { for: 'pref-language' }, t('settings.messagesLanguage')),
    language,
    h('div', { class: 'form-actions' }, save),
    output);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    withFeedback(save, output, async () => {
      const input = {
        email: email.checked, sms: sms.checked, language: language.value,
        quietHoursStart: quietStart.value || null, quietHoursEnd: quietEnd.value || null,
      };
      const number = phone.value.trim();
      if (number !== (preferences.phone ?? '')) input.phone = number || null;
      const { data } = await request('UpdateNotificationPreferences', { input }, { auth: true });
      const payload = data.updateNotificationPreferences;
      if (payload.errors.length) throw refusal(payload.errors);
      Object.assign(preferences, payload.notificationPreferences);
      phone.value = preferences.phone ?? '';
      return t('settings.saved');
    });
  });
  return form;
}

async function pickupSection(me) {
  const output = h('div', { 'aria-live': 'polite' });
  let libraries = [];
  try {
    libraries = await loadLibraries();
  } catch {
    return null;
  }
  const sorted = [...libraries].sort((a, b) => a.name.localeCompare(b.name, getLanguage()));
  const select = h('select', { id: 'pickup-library' },
    h('option', { value: '', selected: !me.preferredPickupLibrary }, t('settings.pickupDefault')),
    sorted.map((library) => h('option', { value: library.id, selected: me.preferredPickupLibrary?.id === library.id },
      library.address ? `${library.name} — ${library.address}` : library.name)));
  const save = h('button', { type: 'submit', class: 'button secondary' }, t('settings.save'));
  const form = h('form', null,
    h('label', { for: 'pickup-library' }, t('settings.pickupLibrary')),
    select,
    h('p', { class: 'field-hint' }, t('settings.pickupHint')),
    h('div', { class: 'form-actions' }, save), output);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!select.value) return;
    withFeedback(save, output, async () => {
      const { data } = await request('SetPreferredPickupLibrary', { libraryId: select.value }, { auth: true });
      const payload = data.setPreferredPickupLibrary;
      if (payload.errors.length) throw refusal(payload.errors);
      return t('settings.pickupSaved', { library: payload.library.name });
    });
  });
  return h('section', { class: 'card', 'aria-labelledby': 'pickup-title' },
    h('h2', { id: 'pickup-title' }, t('settings.pickupTitle')), form);
}

function pinSection() {
  const output = h('div', { 'aria-live': 'polite' });
  const current = h('input', { type: 'password', id: 'pin-current', inputmode: 'numeric', autocomplete: 'current-password' });
  const next = h('input', { type: 'password', id: 'pin-new', inputmode: 'numeric', autocomplete: 'new-password', 'aria-describedby': 'pin-hint' });
  const save = h('button', { type: 'submit', class: 'button secondary' }, t('settings.changePin'));
  const form = h('form', null,
    h('label', { for: 'pin-current' }, t('settings.currentPin')), current,
    h('label', { for: 'pin-new' }, t('settings.newPin')), next,
    h('p', { id: 'pin-hint', class: 'field-hint' }, t('settings.pinHint')),
    h('div', { class: 'form-actions' }, save), output);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    withFeedback(save, output, async () => {
      const { data } = await request('ChangePin', { currentPin: current.value, newPin: next.value }, { auth: true });
      if (data.changePin.errors.length) throw refusal(data.changePin.errors);
      current.value = '';
      next.value = '';
      return t('settings.pinChanged');
    });
  });
  return h('section', { class: 'card', 'aria-labelledby': 'pin-title' }, h('h2', { id: 'pin-title' }, t('settings.pinTitle')), form);
}

export default {
  title: () => t('settings.title'),

  async render(container, { signal }) {
    if (!isSignedIn()) {
      replace(container, languageSection(),
        h('p', null, h('a', { href: '#/login?next=%23%2Fsettings' }, t('settings.signInForMore'))));
      return;
    }
    replace(container, languageSection(), loading());
    let account;
    try {
      account = await loadAccount({ signal });
    } catch (error) {
      if (error.name !== 'AbortError') replace(container, languageSection(), accountError(error));
      return;
    }
    const { me, cachedAt } = account;
    if (cachedAt) {
      replace(container, languageSection(), errorBox(t('settings.offline')));
      return;
    }
    const preferences = { ...me.notificationPreferences };
    const notifications = h('section', { class: 'card', 'aria-labelledby': 'notifications-title' },
      h('h2', { id: 'notifications-title' }, t('settings.notifications')),
      await pushSection(preferences),
      h('h3', null, t('settings.otherChannels')),
      preferencesForm(preferences));
    if (signal.aborted) return;
    replace(container, languageSection(), notifications, await pickupSection(me), pinSection());
  },
};
