// The patron's position, for "nearest copy" and "libraries near me". The browser is asked only
// after the patron taps a "near me" button (never on page load); once the permission is
// granted, later screens use it without asking again.

const MAX_AGE_MS = 5 * 60 * 1000;
let last = null; // { near: { lat, lon }, at }

async function permissionState() {
  try {
    const status = await navigator.permissions.query({ name: 'geolocation' });
    return status.state; // granted, prompt or denied
  } catch {
    return 'prompt';
  }
}

function locate() {
  return new Promise((resolve) => {
    if (!('geolocation' in navigator)) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        last = {
          near: { lat: position.coords.latitude, lon: position.coords.longitude },
          at: Date.now(),
        };
        resolve(last.near);
      },
      () => resolve(null),
      { enableHighAccuracy: false, timeout: 10_000, maximumAge: MAX_AGE_MS },
    );
  });
}

/** The position when already known or allowed; null otherwise (without asking). */
export async function knownPosition() {
  if (last && Date.now() - last.at < MAX_AGE_MS) return last.near;
  if ((await permissionState()) !== 'granted') return null;
  return locate();
}

/** Asks for the position (after a tap): null when refused or unavailable. */
export async function askForPosition() {
  return (await knownPosition()) ?? locate();
}

/** Whether asking again is pointless (the patron said no for this site). */
export async function positionDenied() {
  return (await permissionState()) === 'denied';
}
