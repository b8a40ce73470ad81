// Tells screen reader users what happened after an asynchronous step ("12 results", "Renewed"),
// through one polite live region in the page (#announcer).

let timer = null;

export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  // Emptied first so that the same message twice in a row is read twice.
  region.textContent = '';
  clearTimeout(timer);
  timer = setTimeout(() => { region.textContent = text; }, 50);
}
