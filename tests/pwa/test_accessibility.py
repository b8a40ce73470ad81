"""Every screen on a 360 px wide phone: one h1, the header/nav/main landmarks, every field and
button named, unique ids, no sideways scrolling; and the focus moves to the new screen's heading
when the patron changes screen."""

from __future__ import annotations

from typing import Any

from tests.pwa.conftest import PageFactory, dataset, login, screenshot

AUDIT = """() => {
  const problems = [];
  const headings = document.querySelectorAll('h1');
  if (headings.length !== 1) problems.push(`${headings.length} h1 elements`);
  for (const landmark of ['header', 'nav', 'main']) {
    if (!document.querySelector(landmark)) problems.push(`no <${landmark}>`);
  }
  for (const field of document.querySelectorAll('input, select, textarea')) {
    const named = field.labels?.length || field.getAttribute('aria-label')
      || field.getAttribute('aria-labelledby');
    if (!named) problems.push(`unlabelled field ${field.id || field.name}`);
  }
  for (const control of document.querySelectorAll('button, a[href]')) {
    if (!(control.textContent.trim() || control.getAttribute('aria-label'))) {
      problems.push(`unnamed control ${control.outerHTML.slice(0, 80)}`);
    }
  }
  for (const image of document.querySelectorAll('img')) {
    if (!image.hasAttribute('alt')) problems.push(`image without alt: ${image.src}`);
  }
  const ids = [...document.querySelectorAll('[id]')].map((element) => element.id);
  const repeated = ids.filter((id, index) => ids.indexOf(id) !== index);
  if (repeated.length) problems.push(`repeated ids: ${repeated.join(', ')}`);
  if (document.documentElement.scrollWidth > window.innerWidth) {
    problems.push(`scrolls sideways: ${document.documentElement.scrollWidth}px wide`);
  }
  return problems;
}"""


def _audit(page: Any, where: str) -> list[str]:
    page.locator("#screen-title").wait_for()
    page.wait_for_load_state("networkidle")
    return [f"{where}: {problem}" for problem in page.evaluate(AUDIT)]


def test_every_screen_passes_the_basic_checks_at_360_px(page_factory: PageFactory) -> None:
    record = next(r for r in dataset()["records"] if r["isbns"])
    page = page_factory()
    problems: list[str] = []
    for where in ("/#/search?q=taupo", "/#/libraries", "/#/login", "/#/settings"):
        page.goto(where)
        problems += _audit(page, where)
    login(page, "C0005", "9753")
    for where in ("/#/loans", "/#/holds", "/#/card", "/#/settings", f"/#/record/{record['id']}"):
        page.goto(where)
        problems += _audit(page, where)
    assert problems == []


def test_changing_screen_moves_the_focus_to_its_heading(page_factory: PageFactory) -> None:
    page = page_factory()
    page.goto("/#/search")
    page.locator("#q").wait_for()
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("() => document.activeElement.className") == "skip-link"

    page.locator(".tabbar a[data-route=libraries]").click()
    page.get_by_role("heading", name="Biblioteche", level=1).wait_for()
    assert page.evaluate("() => document.activeElement.id") == "screen-title"
    assert page.title() == "Biblioteche · Tessera"
    current = page.locator(".tabbar a[aria-current=page]")
    assert current.get_attribute("data-route") == "libraries"
    screenshot(page, "focus")
