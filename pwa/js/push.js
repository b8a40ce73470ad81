// Web push: subscribe this browser with the server's VAPID key and register the subscription
// with the server (SubscribePush), or the reverse. The service worker (sw.js) shows what
// arrives.
import { request } from './api/graphql.js';

export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

function base64UrlToBytes(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

function sameKey(buffer, bytes) {
  if (!buffer) return false;
  const current = new Uint8Array(buffer);
  return current.length === bytes.length && current.every((byte, index) => byte === bytes[index]);
}

async function registration() {
  return navigator.serviceWorker.ready;
}

/** This browser's current subscription, or null. */
export async function currentSubscription() {
  if (!pushSupported()) return null;
  return (await registration()).pushManager.getSubscription();
}

/**
 * Turns push on: asks permission, subscribes with the server's key, registers the subscription
 * and sets the preference. Resolves with { ok } or { ok: false, reason, message }.
 */
export async function turnOnPush() {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return { ok: false, reason: 'denied' };
  const { data } = await request('PushPublicKey');
  const key = base64UrlToBytes(data.pushPublicKey);
  const { pushManager } = await registration();
  let subscription = await pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options?.applicationServerKey, key)) {
    // Made with another server key: it would be refused by the push service.
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const { endpoint, keys } = subscription.toJSON();
  const subscribed = await request('SubscribePush', { endpoint, p256dh: keys.p256dh, auth: keys.auth }, { auth: true });
  const { errors } = subscribed.data.subscribePush;
  if (errors.length) return { ok: false, reason: 'refused', message: errors.map((error) => error.message).join(' ') };
  await request('UpdateNotificationPreferences', { input: { push: true } }, { auth: true });
  return { ok: true };
}

/** Turns push off for this browser and in the patron's preferences. */
export async function turnOffPush() {
  const subscription = await currentSubscription();
  if (subscription) {
    await request('UnsubscribePush', { endpoint: subscription.endpoint }, { auth: true });
    await subscription.unsubscribe().catch(() => {});
  }
  await request('UpdateNotificationPreferences', { input: { push: false } }, { auth: true });
  return { ok: true };
}
