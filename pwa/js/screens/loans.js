// My loans: due dates, renewals left, why a loan cannot be renewed yet, and renew / renew all.
// A refusal shows the server's own message (in the interface's language).
import { h, replace } from '../dom.js';
import { t, has } from '../i18n.js';
import { request } from '../api/graphql.js';
import { announce } from '../ui/announce.js';
import { errorBox, successBox, loading, describeError, userErrorsText } from '../ui/messages.js';
import { formatDate } from '../format.js';
import { loadAccount, accountError, offlineNote, standingNote } from '../account.js';

/** Why a loan cannot be renewed now, from its renewBlockedBy code, in plain words. */
function blockedReason(loan) {
  const code = loan.renewBlockedBy;
  if (!code) return null;
  if (code === 'TOO_EARLY' && loan.renewableFrom) return t('loans.renewableFrom', { date: formatDate(loan.renewableFrom) });
  return has(`renewBlocked.${code}`) ? t(`renewBlocked.${code}`) : t('renewBlocked.other');
}

function loanCard(loan, actions) {
  const due = h('span', { class: 'due' }, formatDate(loan.dueDate));
  const renewals = h('span', { class: 'renewals' }, t('loans.renewalsLeft', { count: loan.renewalsLeft }));
  const reason = blockedReason(loan);
  const note = h('p', { class: 'loan-note meta' }, loan.renewable ? t('loans.renewable') : reason);
  const result = h('div', { class: 'loan-result', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'button secondary small renew' }, t('loans.renew'),
    h('span', { class: 'visually-hidden' }, ` ${loan.record.title}`));
  button.addEventListener('click', () => actions.renew(loan, { button, due, renewals, note, result }));

  const overdue = loan.overdueDays > 0
    ? h('span', { class: 'badge bad' }, t('loans.overdue', { count: loan.overdueDays }))
    : null;
  const element = h('li', { class: 'card loan', 'data-loan-id': loan.id },
    h('h2', null, h('a', { href: `#/record/${encodeURIComponent(loan.record.id)}` }, loan.record.title)),
    h('p', null, t('loans.dueOn'), ' ', h('strong', null, due), ' ', overdue),
    h('p', { class: 'meta' }, t('loans.from', { library: loan.library.name }), ' · ', renewals),
    note,
    h('div', { class: 'row' }, button),
    result);
  return { element, parts: { button, due, renewals, note, result } };
}

/** Shows the outcome of one renewal on the loan's card. */
function showRenewal(parts, { loan: renewed, errors }) {
  if (errors.length) {
    replace(parts.result, errorBox(userErrorsText(errors)));
    return false;
  }
  parts.due.textContent = formatDate(renewed.dueDate);
  if (renewed.renewalsLeft !== undefined) parts.renewals.textContent = t('loans.renewalsLeft', { count: renewed.renewalsLeft });
  replace(parts.result, successBox(t('loans.renewed', { date: formatDate(renewed.dueDate) })));
  parts.note.textContent = '';
  return true;
}

export default {
  title: () => t('loans.title'),

  async render(container, { signal }) {
    replace(container, loading());
    let account;
    try {
      account = await loadAccount({ signal });
    } catch (error) {
      if (error.name !== 'AbortError') replace(container, accountError(error));
      return;
    }
    const { me, cachedAt } = account;
    const loans = me.loans;
    const summary = h('div', { 'aria-live': 'polite', id: 'renew-summary' });
    const byId = new Map();
    // After renewals: the account again, which keeps the offline copy current and gives each loan
    // its renewals left and whether it may be renewed again.
    const refreshCopy = async () => {
      try {
        const fresh = await loadAccount();
        for (const loan of fresh.me.loans) {
          const parts = byId.get(loan.id);
          if (!parts) continue;
          parts.renewals.textContent = t('loans.renewalsLeft', { count: loan.renewalsLeft });
          parts.note.textContent = loan.renewable ? t('loans.renewable') : blockedReason(loan);
        }
      } catch { /* the screen keeps what it shows */ }
    };

    const actions = {
      async renew(loan, parts) {
        parts.button.disabled = true;
        try {
          const { data } = await request('RenewLoan', { loanId: loan.id }, { auth: true });
          const ok = showRenewal(parts, data.renewLoan);
          if (ok) refreshCopy();
        } catch (error) {
          replace(parts.result, errorBox(describeError(error)));
        } finally {
          parts.button.disabled = false;
        }
      },
    };

    const renewAllButton = h('button', { type: 'button', class: 'button', id: 'renew-all' }, t('loans.renewAll'));
    renewAllButton.addEventListener('click', async () => {
      renewAllButton.disabled = true;
      try {
        const { data } = await request('RenewAll', {}, { auth: true });
        let renewed = 0;
        let refused = 0;
        // One result per loan, in the order of me.loans.
        data.renewAll.results.forEach((outcome, index) => {
          const loanId = outcome.loan?.id ?? loans[index]?.id;
          const parts = byId.get(loanId);
          if (!parts) return;
          if (showRenewal(parts, outcome)) renewed += 1;
          else refused += 1;
        });
        const text = t('loans.renewAllSummary', { renewed, refused });
        replace(summary, successBox(text));
        if (renewed) refreshCopy();
      } catch (error) {
        replace(summary, errorBox(describeError(error)));
      } finally {
        renewAllButton.disabled = false;
      }
    });

    if (loans.length === 0) {
      replace(container, offlineNote(cachedAt), standingNote(me.standing), h('p', null, t('loans.none')),
        h('p', null, h('a', { href: '#/search' }, t('loans.findSomething'))));
      announce(t('loans.none'));
      return;
    }
    const list = h('ul', { class: 'list', id: 'loans' }, loans.map((loan) => {
      const { element, parts } = loanCard(loan, actions);
      byId.set(loan.id, parts);
      return element;
    }));
    replace(container,
      offlineNote(cachedAt),
      standingNote(me.standing),
      h('div', { class: 'spread' }, h('p', null, t('loans.count', { count: loans.length })), cachedAt ? null : renewAllButton),
      summary,
      list);
    if (cachedAt) for (const parts of byId.values()) parts.button.disabled = true;
    announce(t('loans.count', { count: loans.length }));
  },
};
