// The network's libraries: open now or not, the distance (nearest first once the patron shares
// their position), opening hours, contacts and directions.
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { errorBox, loading, describeError } from '../ui/messages.js';
import { formatDistance } from '../format.js';
import { knownPosition, askForPosition, positionDenied } from '../geo.js';
import { loadLibraries, directionsUrl } from '../libraries-store.js';

const WEEKDAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

function hoursTable(openingHours) {
  const byDay = new Map();
  for (const slot of openingHours) {
    if (!byDay.has(slot.weekday)) byDay.set(slot.weekday, []);
    byDay.get(slot.weekday).push(`${slot.opens}–${slot.closes}`);
  }
  return h('table', { class: 'hours' },
    h('tbody', null, WEEKDAYS.map((day) => h('tr', null,
      h('th', { scope: 'row' }, t(`weekday.${day}`)),
      h('td', null, byDay.has(day) ? byDay.get(day).join(', ') : t('libraries.closed'))))));
}

function libraryItem(library) {
  const directions = directionsUrl(library.location);
  const open = library.openNow
    ? h('span', { class: 'badge ok' }, t('libraries.openNow'))
    : h('span', { class: 'badge neutral' }, t('libraries.closedNow'));
  return h('li', { class: 'card library', 'data-library-id': library.id },
    h('div', { class: 'spread' },
      h('h2', null, library.name),
      library.distanceMeters != null ? h('span', { class: 'distance' }, formatDistance(library.distanceMeters)) : null),
    h('p', null, open, ' ', h('span', { class: 'meta' }, library.address ?? '')),
    h('details', null,
      h('summary', null, t('libraries.hoursAndContacts')),
      library.openingHours.length ? hoursTable(library.openingHours) : h('p', null, t('libraries.noHours')),
      library.phone ? h('p', null, h('a', { href: `tel:${library.phone.replace(/\s+/g, '')}` }, library.phone)) : null,
      library.email ? h('p', null, h('a', { href: `mailto:${library.email}` }, library.email)) : null),
    directions
      ? h('p', null, h('a', { href: directions, rel: 'noopener', target: '_blank' }, t('record.directions'),
        h('span', { class: 'visually-hidden' }, ` ${library.name}`)))
      : null);
}

export default {
  title: () => t('libraries.title'),

  async render(container, { signal }) {
    const status = h('p', { class: 'meta', id: 'libraries-status', 'aria-live': 'polite' });
    const list = h('div');
    const nearButton = h('button', { type: 'button', class: 'button secondary small', id: 'near-me' }, t('libraries.nearMe'));

    const draw = async (near) => {
      replace(list, loading());
      try {
        const libraries = await loadLibraries(near);
        if (signal.aborted) return;
        replace(list, h('ul', { class: 'list', id: 'libraries' }, libraries.map(libraryItem)));
        const text = near ? t('libraries.countNearest', { count: libraries.length }) : t('libraries.count', { count: libraries.length });
        status.textContent = text; // a live region: read out as it changes
      } catch (error) {
        replace(list, errorBox(describeError(error)));
      }
    };

    nearButton.addEventListener('click', async () => {
      nearButton.disabled = true;
      const near = await askForPosition();
      nearButton.disabled = false;
      if (near) draw(near);
      else status.textContent = (await positionDenied()) ? t('geo.denied') : t('geo.unavailable');
    });

    replace(container, h('div', { class: 'row' }, nearButton), status, list);
    const near = await knownPosition();
    if (!signal.aborted) draw(near);
  },
};
