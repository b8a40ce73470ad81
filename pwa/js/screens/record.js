// A record: what it is, its copies nearest first (with directions), and the one-tap hold with
// an Undo that cancels it within a few seconds.
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { request, NetworkError } from '../api/graphql.js';
import { isSignedIn } from '../session.js';
import { goToLogin } from '../router.js';
import { announce } from '../ui/announce.js';
import { showSnackbar } from '../ui/snackbar.js';
import { errorBox, successBox, loading, describeError, userErrorsText } from '../ui/messages.js';
import { holdingStatus, materialLabel } from '../ui/availability.js';
import { formatDistance } from '../format.js';
import { knownPosition, askForPosition } from '../geo.js';
import { loadLibraries, directionsUrl } from '../libraries-store.js';

const UNDO_MS = 7000;

function newClientMutationId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

function holdingItem(holding, locations) {
  const directions = directionsUrl(locations.get(holding.library.id));
  return h('li', { class: 'card' },
    h('div', { class: 'spread' },
      h('h3', null, holding.library.name),
      holding.distanceMeters != null ? h('span', { class: 'meta' }, formatDistance(holding.distanceMeters)) : null),
    h('p', null, holdingStatus(holding)),
    h('p', { class: 'meta' }, t('record.callNumber', { callNumber: holding.callNumber || '—' })),
    directions
      ? h('p', null, h('a', { href: directions, rel: 'noopener', target: '_blank' },
        t('record.directions'), h('span', { class: 'visually-hidden' }, ` ${holding.library.name}`)))
      : null);
}

/** Places a hold with one tap; a lost answer is retried with the same clientMutationId. */
async function placeHold(recordId, near) {
  const variables = { recordId, near, clientMutationId: newClientMutationId() };
  try {
    return (await request('PlaceHold', variables, { auth: true })).data.placeHold;
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    return (await request('PlaceHold', variables, { auth: true })).data.placeHold;
  }
}

function holdSection(record, near) {
  const output = h('div', { 'aria-live': 'polite' });
  const queue = record.holdQueueLength > 0
    ? h('p', { class: 'meta' }, t('record.queue', { count: record.holdQueueLength }))
    : null;
  if (!record.holdable) {
    return h('section', { class: 'card', 'aria-labelledby': 'hold-title' },
      h('h2', { id: 'hold-title' }, t('record.holdTitle')), queue,
      h('p', null, t('record.notHoldable')));
  }
  const button = h('button', { type: 'button', class: 'button', id: 'place-hold' }, t('record.placeHold'));
  button.addEventListener('click', async () => {
    if (!isSignedIn()) { goToLogin(); return; }
    button.disabled = true;
    replace(output, h('p', { class: 'meta', role: 'status' }, t('record.placing')));
    try {
      const payload = await placeHold(record.id, near);
      if (payload.errors.length) {
        replace(output, errorBox(userErrorsText(payload.errors)));
        button.disabled = false;
        return;
      }
      const { hold } = payload;
      const placed = t('record.holdPlaced', { library: hold.pickupLibrary.name });
      replace(output, successBox(`${placed} ${t(`holdStatus.${hold.status}.short`)}`));
      const undone = await showSnackbar(placed, {
        duration: UNDO_MS,
        action: { label: t('record.undo'), run: () => undoHold(hold.id, output, button) },
      });
      if (!undone) button.disabled = true;
    } catch (error) {
      replace(output, errorBox(describeError(error)));
      button.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'hold-title' },
    h('h2', { id: 'hold-title' }, t('record.holdTitle')), queue,
    h('p', { class: 'meta' }, t('record.holdExplain')),
    button, output);
}

async function undoHold(holdId, output, button) {
  try {
    const { data } = await request('CancelHold', { holdId }, { auth: true });
    const { errors } = data.cancelHold;
    if (errors.length) {
      replace(output, errorBox(userErrorsText(errors)));
      return;
    }
    replace(output, successBox(t('record.holdUndone')));
    button.disabled = false;
    button.focus();
  } catch (error) {
    replace(output, errorBox(describeError(error)));
  }
}

export default {
  title: () => t('record.title'),

  async render(container, { params: [id], signal, setTitle }) {
    replace(container, loading());
    const near = await knownPosition();
    let record;
    let libraries = [];
    try {
      [record, libraries] = await Promise.all([
        request('Record', { id, near }, { signal }).then(({ data }) => data.record),
        loadLibraries().catch(() => []),
      ]);
    } catch (error) {
      if (error.name === 'AbortError') return;
      replace(container, errorBox(describeError(error)));
      return;
    }
    if (signal.aborted) return;
    if (!record) {
      replace(container, errorBox(t('record.notFound')));
      return;
    }
    setTitle(record.title);
    const locations = new Map(libraries.map((library) => [library.id, library.location]));
    const facts = h('dl', { class: 'facts' },
      record.authors.length ? [h('dt', null, t('record.authors')), h('dd', null, record.authors.join('; '))] : null,
      record.publicationYear ? [h('dt', null, t('record.year')), h('dd', null, String(record.publicationYear))] : null,
      h('dt', null, t('record.type')), h('dd', null, materialLabel(record.materialType)),
      record.isbns.length ? [h('dt', null, 'ISBN'), h('dd', null, record.isbns.join(', '))] : null);

    const nearButton = near ? null : h('button', {
      type: 'button', class: 'button secondary small',
      onclick: async () => { if (await askForPosition()) this.render(container, { params: [id], signal, setTitle }); },
    }, t('record.sortByDistance'));

    const holdings = record.holdings.length
      ? h('ul', { class: 'list', id: 'holdings' }, record.holdings.map((holding) => holdingItem(holding, locations)))
      : h('p', null, t('record.noCopies'));

    replace(container,
      facts,
      holdSection(record, near),
      h('section', { 'aria-labelledby': 'copies-title' },
        h('div', { class: 'spread' },
          h('h2', { id: 'copies-title' }, near ? t('record.copiesNearest') : t('record.copies')),
          nearButton),
        holdings));
    announce(t('record.loaded', { count: record.holdings.length }));
  },
};
