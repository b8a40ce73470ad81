// Search: search-as-you-type over the whole network's catalogue, the camera scanner with a
// manual ISBN entry, and results with availability and the distance to the nearest copy on the
// shelf (when the patron lets us know where they are).
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { request } from '../api/graphql.js';
import { updateQuery, navigate } from '../router.js';
import { errorBox, infoBox, describeError } from '../ui/messages.js';
import { availabilitySummary, materialLabel } from '../ui/availability.js';
import { knownPosition, askForPosition, positionDenied } from '../geo.js';
import { cameraAvailable, startScanner } from '../scanner/scanner.js';

const DEBOUNCE_MS = 300;
const PAGE_SIZE = 20;

function resultItem(node) {
  const byline = [node.authors.slice(0, 2).join('; '), node.publicationYear].filter(Boolean).join(' · ');
  return h('li', { class: 'card' },
    h('h2', { class: 'result-title' }, h('a', { href: `#/record/${encodeURIComponent(node.id)}` }, node.title)),
    h('p', { class: 'meta' }, [materialLabel(node.materialType), byline].filter(Boolean).join(' · ')),
    availabilitySummary(node.availability));
}

/** Looks up what the camera (or the patron) read and goes to the record, or says why not. */
async function lookUpIsbn(code, output) {
  replace(output, h('p', { class: 'meta', role: 'status' }, t('scan.lookingUp', { code })));
  try {
    const near = await knownPosition();
    const { data } = await request('ScanIsbn', { code, near });
    const result = data.scan;
    if (result.__typename === 'Record') {
      navigate(`#/record/${encodeURIComponent(result.id)}`);
    } else if (result.__typename === 'NotInCatalog') {
      replace(output, infoBox(t('scan.notInCatalog', { isbn: result.isbn13 })));
    } else {
      replace(output, errorBox(result.message));
    }
  } catch (error) {
    replace(output, errorBox(describeError(error)));
  }
}

/**
 * The scanner: a "Scan ISBN" button for the toolbar, the camera panel it opens, and the manual
 * ISBN entry (always there, and opened by itself when the camera cannot be used).
 */
function scanner(signal) {
  const output = h('div', { 'aria-live': 'polite', id: 'scan-output' });
  const video = h('video', { muted: true, playsinline: true, autoplay: true, 'aria-label': t('scan.cameraView') });
  video.muted = true;
  const status = h('p', { class: 'meta', role: 'status' });
  const stopButton = h('button', { type: 'button', class: 'button secondary small', onclick: () => finish() }, t('scan.stop'));
  const panel = h('section', { class: 'scanner card', 'aria-labelledby': 'scanner-title', hidden: true },
    h('h2', { id: 'scanner-title' }, t('scan.title')), status, video, h('div', { class: 'row' }, stopButton));
  const startButton = h('button', { type: 'button', class: 'button secondary small', id: 'scan-start', onclick: () => begin() }, t('scan.start'));

  const isbnInput = h('input', { id: 'isbn', name: 'isbn', inputmode: 'numeric', autocomplete: 'off', 'aria-describedby': 'isbn-hint' });
  const manual = h('details', { class: 'manual-isbn', id: 'manual-isbn' },
    h('summary', null, t('scan.manualLabel')),
    h('form', { onsubmit: (event) => {
      event.preventDefault();
      const code = isbnInput.value.trim();
      if (code) lookUpIsbn(code, output);
    } },
    h('label', { for: 'isbn', class: 'visually-hidden' }, t('scan.manualLabel')),
    h('div', { class: 'search-bar' },
      h('div', { class: 'grow' }, isbnInput),
      h('button', { type: 'submit', class: 'button secondary' }, t('scan.lookUp'))),
    h('p', { id: 'isbn-hint', class: 'field-hint' }, t('scan.manualHint'))));

  let stop = null;
  function finish() {
    stop?.();
    stop = null;
    panel.hidden = true;
    startButton.disabled = false;
  }
  function offerManualEntry(text) {
    finish();
    replace(output, h('p', { class: 'meta' }, text));
    manual.open = true;
    isbnInput.focus();
  }
  async function begin() {
    if (!cameraAvailable()) { offerManualEntry(t('scan.noCamera')); return; }
    startButton.disabled = true;
    panel.hidden = false;
    replace(output);
    status.textContent = t('scan.starting');
    try {
      stop = await startScanner(video, {
        signal,
        onCode: (code) => {
          finish();
          lookUpIsbn(code, output);
        },
        onFailure: () => offerManualEntry(t('scan.failed')),
      });
      status.textContent = t('scan.pointCamera');
    } catch (error) {
      offerManualEntry(error?.name === 'NotAllowedError' ? t('scan.cameraDenied') : t('scan.failed'));
    }
  }
  signal.addEventListener('abort', () => stop?.());
  return { startButton, panel, manual, output };
}

export default {
  title: () => t('search.title'),

  async render(container, { query, signal }) {
    const input = h('input', {
      type: 'search', id: 'q', name: 'q', value: query.get('q') ?? '', autocomplete: 'off',
      enterkeyhint: 'search', spellcheck: 'false',
    });
    const availableOnly = h('input', { type: 'checkbox', id: 'available-only', checked: query.get('available') === '1' });
    // The material types of the results, with their counts (the search's facet), as a filter.
    const materialType = h('select', { id: 'material-type' },
      h('option', { value: '' }, t('search.allTypes')));
    const chosenType = query.get('type');
    if (chosenType) materialType.append(h('option', { value: chosenType, selected: true }, materialLabel(chosenType)));
    const typeFilter = h('div', { class: 'type-filter', hidden: !chosenType },
      h('label', { for: 'material-type' }, t('search.materialType')), materialType);

    function showMaterialTypes(facets) {
      const values = facets.find((facet) => facet.name === 'materialType')?.values ?? [];
      const chosen = materialType.value;
      replace(materialType,
        h('option', { value: '' }, t('search.allTypes')),
        values.map(({ value, count }) => h('option', { value, selected: value === chosen }, `${materialLabel(value)} (${count})`)),
        chosen && !values.some(({ value }) => value === chosen)
          ? h('option', { value: chosen, selected: true }, materialLabel(chosen))
          : null);
      typeFilter.hidden = values.length < 2 && !chosen;
    }
    const nearButton = h('button', { type: 'button', class: 'button secondary small', 'aria-pressed': 'false' }, t('search.nearMe'));
    const status = h('p', { class: 'meta', id: 'search-status', 'aria-live': 'polite' });
    const results = h('ul', { class: 'list', id: 'results', 'aria-labelledby': 'search-status' });
    const more = h('div');

    let near = null;
    let timer = null;
    let inFlight = null;

    async function run({ after = null } = {}) {
      const text = input.value.trim();
      const filter = {};
      if (availableOnly.checked) filter.availableOnly = true;
      if (materialType.value) filter.materialTypes = [materialType.value];
      const params = new URLSearchParams();
      if (text) params.set('q', text);
      if (availableOnly.checked) params.set('available', '1');
      if (materialType.value) params.set('type', materialType.value);
      updateQuery(params);
      inFlight?.abort();
      if (text.length < 2) {
        replace(results);
        replace(more);
        status.textContent = text ? t('search.typeMore') : '';
        return;
      }
      inFlight = new AbortController();
      const { signal: requestSignal } = inFlight;
      if (!after) status.textContent = t('search.searching');
      try {
        const variables = { query: text, filter: Object.keys(filter).length ? filter : null, near, first: PAGE_SIZE, after };
        const { data } = await request('SearchCatalog', variables, { signal: requestSignal });
        if (requestSignal.aborted || signal.aborted) return;
        const { edges, totalCount, pageInfo, facets } = data.search;
        if (!after) showMaterialTypes(facets);
        const items = edges.map((edge) => resultItem(edge.node));
        if (after) results.append(...items);
        else replace(results, items);
        const summary = totalCount === 0 ? t('search.none', { query: text }) : t('search.count', { count: totalCount });
        status.textContent = summary; // a live region: read out as it changes
        replace(more, pageInfo.hasNextPage
          ? h('button', { type: 'button', class: 'button secondary', onclick: () => run({ after: pageInfo.endCursor }) }, t('search.more'))
          : null);
      } catch (error) {
        if (error.name === 'AbortError') return;
        status.textContent = describeError(error);
      }
    }

    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(() => run(), DEBOUNCE_MS);
    };
    input.addEventListener('input', schedule);
    availableOnly.addEventListener('change', () => run());
    materialType.addEventListener('change', () => run());
    signal.addEventListener('abort', () => { clearTimeout(timer); inFlight?.abort(); });

    nearButton.addEventListener('click', async () => {
      if (near) {
        // Pressed again: results no longer by distance.
        near = null;
        nearButton.setAttribute('aria-pressed', 'false');
        run();
        return;
      }
      nearButton.disabled = true;
      near = await askForPosition();
      nearButton.disabled = false;
      nearButton.setAttribute('aria-pressed', String(Boolean(near)));
      if (!near) {
        status.textContent = (await positionDenied()) ? t('geo.denied') : t('geo.unavailable');
        return;
      }
      run();
    });

    const form = h('form', { role: 'search', onsubmit: (event) => { event.preventDefault(); clearTimeout(timer); run(); } },
      h('div', { class: 'search-bar' },
        h('div', { class: 'grow' },
          h('label', { for: 'q' }, t('search.label')),
          input),
        h('button', { type: 'submit', class: 'button' }, t('search.submit'))),
      h('p', { class: 'field-hint' }, t('search.hint')));

    const scan = scanner(signal);
    replace(container, form,
      h('div', { class: 'toolbar' }, scan.startButton, nearButton,
        h('label', { class: 'check', for: 'available-only' }, availableOnly, t('search.availableOnly'))),
      typeFilter,
      scan.panel, scan.manual, scan.output, status, results, more);

    near = await knownPosition();
    if (signal.aborted) return;
    if (near) nearButton.setAttribute('aria-pressed', 'true');
    if (input.value) run();
  },
};
