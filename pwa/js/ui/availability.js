// How a record's availability and a copy's status read, shared by the search results and the
// record screen.
import { h } from '../dom.js';
import { t, has } from '../i18n.js';
import { formatDate, formatDistance } from '../format.js';

export function materialLabel(type) {
  return has(`material.${type}`) ? t(`material.${type}`) : type;
}

/** One line for a search result: copies on the shelf, and the nearest of them. */
export function availabilitySummary(availability) {
  const { total, available, nearestAvailable } = availability;
  if (total === 0) return h('p', { class: 'meta' }, t('availability.noCopies'));
  if (available === 0) {
    return h('p', null, h('span', { class: 'badge warn' }, t('availability.noneOnShelf')), ' ',
      h('span', { class: 'meta' }, t('availability.copies', { count: total })));
  }
  const nearest = nearestAvailable
    ? (nearestAvailable.distanceMeters != null
      ? t('availability.nearestAt', { library: nearestAvailable.library.name, distance: formatDistance(nearestAvailable.distanceMeters) })
      : t('availability.at', { library: nearestAvailable.library.name }))
    : null;
  return h('p', null,
    h('span', { class: 'badge ok' }, t('availability.onShelf', { available, total })),
    nearest ? h('span', { class: 'meta' }, ' ', nearest) : null);
}

const STATUS_TONE = {
  AVAILABLE: 'ok', ON_LOAN: 'warn', IN_TRANSIT: 'warn', ON_HOLD_SHELF: 'warn',
  NOT_FOR_LOAN: 'neutral', EMBARGOED: 'neutral', IN_QUARANTINE: 'neutral', LOST: 'bad',
};

/** A copy's status as a badge, with its date when it has one. */
export function holdingStatus(holding) {
  const label = has(`status.${holding.status}`) ? t(`status.${holding.status}`) : holding.status;
  const parts = [h('span', { class: `badge ${STATUS_TONE[holding.status] ?? 'neutral'}` }, label)];
  if (holding.status === 'ON_LOAN' && holding.dueDate) {
    parts.push(' ', h('span', { class: 'meta' }, t('status.dueBack', { date: formatDate(holding.dueDate) })));
  }
  if (holding.availableFrom) {
    parts.push(' ', h('span', { class: 'meta' }, t('status.availableFrom', { date: formatDate(holding.availableFrom) })));
  }
  return parts;
}
