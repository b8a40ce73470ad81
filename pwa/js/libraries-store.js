// The network's libraries (public, rarely changing): kept in memory for the session so that the
// record screen can link to directions and the settings screen can list pickup libraries.
import { request } from './api/graphql.js';

let byPosition = new Map(); // "lat,lon" or "" -> Promise<list>

function key(near) {
  return near ? `${near.lat.toFixed(3)},${near.lon.toFixed(3)}` : '';
}

/** The libraries, nearest first when `near` is given. */
export function loadLibraries(near = null) {
  const k = key(near);
  if (!byPosition.has(k)) {
    const pending = request('Libraries', near ? { near } : {}).then(({ data }) => data.libraries);
    pending.catch(() => byPosition.delete(k));
    byPosition.set(k, pending);
  }
  return byPosition.get(k);
}

/** A link for directions to a library (a plain link: nothing is loaded from that site). */
export function directionsUrl(location) {
  if (!location) return null;
  return `https://www.openstreetmap.org/directions?to=${location.lat}%2C${location.lon}`;
}

export function forgetLibraries() {
  byPosition = new Map();
}
