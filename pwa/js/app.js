// Tessera's start: the shell's words in the chosen language, the language switch, the offline
// banner, the service worker, then the screen of the current address.
import { t, getLanguage, setLanguage } from './i18n.js';
import { startRouter, show, goToLogin, navigate } from './router.js';
import { isSignedIn } from './session.js';

function translateShell() {
  const language = getLanguage();
  document.documentElement.lang = language;
  document.querySelector('.skip-link').textContent = t('shell.skip');
  document.querySelector('.tabbar').setAttribute('aria-label', t('shell.sections'));
  for (const label of document.querySelectorAll('[data-label]')) {
    label.textContent = t(label.dataset.label);
  }
  document.getElementById('settings-link').setAttribute('aria-label', t('nav.settings'));
  const switcher = document.getElementById('language-switch');
  // The button names the other language, in that language.
  const other = language === 'it' ? 'en' : 'it';
  switcher.textContent = other.toUpperCase();
  switcher.lang = other;
  switcher.setAttribute('aria-label', other === 'en' ? 'English' : 'Italiano');
  document.querySelector('meta[name="description"]').content = t('shell.description');
}

function updateOfflineBanner() {
  const banner = document.getElementById('offline-banner');
  banner.hidden = navigator.onLine;
  banner.textContent = navigator.onLine ? '' : t('shell.offline');
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
    // Without it the app still works online; nothing to tell the patron.
  });
  // A tap on a notification may ask an open window to go to the notification's screen.
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type === 'navigate' && /^#\/[\w/%?=&.-]*$/.test(event.data.hash ?? '')) {
      navigate(event.data.hash);
    }
  });
}

function start() {
  translateShell();
  updateOfflineBanner();
  document.getElementById('language-switch').addEventListener('click', () => {
    setLanguage(getLanguage() === 'it' ? 'en' : 'it');
  });
  window.addEventListener('tessera:languagechange', () => {
    translateShell();
    updateOfflineBanner();
    show({ keepFocus: true });
  });
  window.addEventListener('online', updateOfflineBanner);
  window.addEventListener('offline', updateOfflineBanner);
  window.addEventListener('tessera:session', (event) => {
    if (!event.detail.signedIn && !isSignedIn()) goToLoginIfNeeded();
  });
  registerServiceWorker();
  startRouter();
}

function goToLoginIfNeeded() {
  const path = location.hash.replace(/^#/, '').split('?')[0];
  if (['/loans', '/holds', '/card'].includes(path)) goToLogin();
}

start();
