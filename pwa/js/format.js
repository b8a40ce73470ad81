// Numbers, dates and distances as people read them, in the interface's language.
import { getLanguage } from './i18n.js';

const LIBRARY_TIME_ZONE = 'Europe/Rome';

function locale() {
  return getLanguage() === 'en' ? 'en-GB' : 'it-IT';
}

/** A calendar date from the server ("2026-11-23", already in the library's time zone). */
export function formatDate(isoDate, { withWeekday = false } = {}) {
  if (!isoDate) return '';
  const [year, month, day] = isoDate.split('-').map(Number);
  // Formatted in UTC so that no time zone shift can move it to the day before.
  const date = new Date(Date.UTC(year, month - 1, day));
  return new Intl.DateTimeFormat(locale(), {
    day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC',
    ...(withWeekday ? { weekday: 'long' } : {}),
  }).format(date);
}

/** A moment from the server (ISO date-time with offset), shown in the library's time zone. */
export function formatMoment(isoDateTime) {
  if (!isoDateTime) return '';
  return new Intl.DateTimeFormat(locale(), {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
    timeZone: LIBRARY_TIME_ZONE,
  }).format(new Date(isoDateTime));
}

/** Metres as "350 m" or "1,2 km". */
export function formatDistance(meters) {
  if (meters === null || meters === undefined) return '';
  if (meters < 1000) {
    return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 }).format(Math.round(meters / 10) * 10 || meters)} m`;
  }
  const km = meters / 1000;
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: km < 10 ? 1 : 0 }).format(km)} km`;
}

/** A euro amount given as a decimal string ("0.50"). */
export function formatEuro(amount) {
  return new Intl.NumberFormat(locale(), { style: 'currency', currency: 'EUR' }).format(Number(amount));
}

/** Today's date in the library's time zone, as the server writes dates. */
export function todayInRome() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: LIBRARY_TIME_ZONE }).format(new Date());
}
