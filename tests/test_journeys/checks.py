"""What every page a journey reaches must pass, in one place.

- `assert_page_ok(page)`: axe-core finds no WCAG 2.1 A/AA violation, the page has exactly one
  h1 and a main landmark, and it does not scroll sideways; its HTML, as served, joins the batch
  the Nu HTML checker reads once per test module (`HTML_BATCH`, flushed by the folder's conftest).
- Keyboard: `tab_to` moves focus with Tab (or Shift+Tab) alone, checking at every stop that the
  focused element shows a visible focus indicator.
"""

import json
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
WIDTHS = {"375": PHONE, "1280": DESKTOP}


def require_checkers() -> None:
    """axe-core and the Nu HTML checker (with java) are there; under CI=true they must be."""
    require_tool(AXE.exists(), "axe-core (run `npm ci`)")
    require_tool(VNU.exists() and shutil.which("java") is not None, "java with vnu.jar")


# The app's CSP refuses injected <script> tags, so axe's source runs through evaluate().
_AXE_RUN = """
%s
;axe.run(document, {runOnly: {type: 'tag', values: %s}, resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({id: v.id, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)})))
"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it stands."""
    return page.evaluate(_AXE_RUN % (AXE.read_text(encoding="utf-8"), json.dumps(AXE_TAGS)))


def _served_html(page: Any) -> str:
    """The page's HTML as the server sent it (the DOM serialised when the response is gone)."""
    response = getattr(page, "_journey_document", None)
    if response is not None and response.url == page.url:
        try:
            return response.text()
        except PlaywrightError:  # the body of a replaced document can be gone
            pass
    return page.content()


def watch_documents(page: Any) -> None:
    """Keep the main frame's last document response, so its served HTML can be checked."""

    def keep(response: Any) -> None:
        if response.request.resource_type == "document" and response.frame == page.main_frame:
            page._journey_document = response

    page.on("response", keep)


@dataclass
class HtmlBatch:
    """Pages waiting for the Nu HTML checker, run once for many pages (the JVM starts slowly)."""

    pages: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, label: str, html: str) -> None:
        with self.lock:
            self.pages.setdefault(label, html)

    def take(self) -> dict[str, str]:
        with self.lock:
            taken, self.pages = self.pages, {}
        return taken


HTML_BATCH = HtmlBatch()


def nu_errors(pages: dict[str, str]) -> list[str]:
    """The Nu HTML checker's errors for these pages, each named by its label."""
    if not pages:
        return []
    require_checkers()
    with tempfile.TemporaryDirectory() as folder:
        names: dict[str, str] = {}
        for n, (label, html) in enumerate(pages.items()):
            path = Path(folder) / f"page{n}.html"
            path.write_text(html, encoding="utf-8")
            names[path.name] = label
        result = subprocess.run(
            ["java", "-jar", str(VNU), "--format", "json", "--stdout", *sorted(
                str(Path(folder) / f"page{n}.html") for n in range(len(pages))
            )],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    report = json.loads(result.stdout or "{}")
    errors = []
    for message in report.get("messages", []):
        if message.get("type") != "error":
            continue
        url = message.get("url", "?")
        label = names.get(url.rsplit("/", 1)[-1], url)
        errors.append(
            f"{label} line {message.get('lastLine')}: {message.get('message')}"
            f" [{message.get('extract', '').strip()}]"
        )
    assert result.returncode in (0, 1) and "messages" in report, result.stderr[-2000:]
    return errors


def assert_page_ok(page: Any, label: str | None = None) -> None:
    """The checks every page reached must pass (journey 2, one-form registration, calls this
    on each page of its own too): axe 0 violations, one h1, a main landmark, no sideways
    scroll; the HTML goes to the module's Nu HTML checker batch."""
    require_checkers()
    width = page.viewport_size["width"]
    name = f"{label or page.url} @{width}px"
    facts = page.evaluate(
        """() => ({
          h1: document.querySelectorAll('h1').length,
          main: document.querySelectorAll('main, [role=main]').length,
          scroll: document.documentElement.scrollWidth,
          inner: window.innerWidth,
        })"""
    )
    assert facts["h1"] == 1, f"{name}: {facts['h1']} h1 elements"
    assert facts["main"] == 1, f"{name}: {facts['main']} main landmarks"
    assert facts["scroll"] <= facts["inner"], (
        f"{name} scrolls sideways: {facts['scroll']}px in {facts['inner']}px "
        f"(widest: {widest(page)})"
    )
    violations = axe_violations(page)
    assert not violations, f"{name}: axe found\n" + json.dumps(violations, indent=1)
    HTML_BATCH.add(label or page.url, _served_html(page))


def widest(page: Any) -> list[str]:
    """The elements reaching furthest past the viewport's right edge (to say what scrolls)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .map(el => [el.getBoundingClientRect().right, el])
          .filter(([right]) => right > window.innerWidth + 0.5)
          .sort((a, b) => b[0] - a[0]).slice(0, 5)
          .map(([right, el]) => `${el.tagName.toLowerCase()}.${el.className}`
               + ` (${Math.round(right)}px): ${(el.textContent || '').trim().slice(0, 40)}`)"""
    )


# --- the keyboard

_FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'nothing focused';
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  return outline || shadow ? '' : `${el.tagName.toLowerCase()} "${(el.textContent
    || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 40)}" shows no focus`;
}"""


def assert_focus_visible(page: Any) -> None:
    problem = page.evaluate(_FOCUS_SHOWN)
    assert not problem, f"{page.url}: {problem}"


def tab_to(page: Any, locator: Any, *, backwards: bool = False, limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until `locator` has focus, each stop showing its focus."""
    target = locator.element_handle(timeout=5000)
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("() => document.activeElement === document.body"):
            continue  # between the end of the page and the browser's own controls
        assert_focus_visible(page)
        if page.evaluate("el => document.activeElement === el", target):
            return
    raise AssertionError(f"{key} never reached {locator} on {page.url}")


def datetime_keys(value: str) -> list[str]:
    """The keys that enter `value` ("2030-05-14T10:00") into an <input type=datetime-local>.

    Chromium splits the field into parts, each typed as digits that move on by themselves when
    full. It lays them out in its own interface language, not the page's locale: en-US here,
    so month, day, year, hour, minute, then A or P for AM or PM.
    """
    day, time = value.split("T")
    year, month, date = day.split("-")
    hour, minute = (int(part) for part in time.split(":"))
    twelve = f"{hour % 12 or 12:02d}"
    return [*month, *date, *year, *twelve, *f"{minute:02d}", "A" if hour < 12 else "P"]


def type_into(page: Any, locator: Any, text: str) -> None:
    """Tab to a text field and type, as a keyboard user does; a date and time field takes the
    keys its parts expect (`datetime_keys`)."""
    tab_to(page, locator)
    if locator.get_attribute("type") == "datetime-local":
        for key in datetime_keys(text):
            page.keyboard.press(key)
        entered = locator.input_value()
        assert entered == text, f"typing {text} into a date and time field gave {entered!r}"
    else:
        page.keyboard.type(text)


def press(page: Any, locator: Any, key: str = "Enter") -> None:
    """Tab to a control and press a key on it (Enter for links and buttons, Space for boxes)."""
    tab_to(page, locator)
    page.keyboard.press(key)


def choose_radio(page: Any, locator: Any) -> None:
    """Tab into a radio group and move with the arrow keys until `locator` is chosen."""
    radios = page.locator(f"input[type=radio][name='{locator.get_attribute('name')}']")
    checked = page.locator(f"input[type=radio][name='{locator.get_attribute('name')}']:checked")
    tab_to(page, checked if checked.count() else radios.first)
    for _ in range(10):
        if locator.is_checked():
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys never chose {locator}")


class Hands:
    """How a journey operates the page: with the keyboard alone, or by clicking."""

    def __init__(self, page: Any, *, keyboard: bool) -> None:
        self.page = page
        self.keyboard = keyboard

    def fill(self, locator: Any, text: str) -> None:
        if self.keyboard:
            type_into(self.page, locator, text)
        else:
            locator.fill(text)

    def press(self, locator: Any) -> None:
        """Follow a link or press a button (Enter on it, from the keyboard)."""
        if self.keyboard:
            press(self.page, locator, "Enter")
        else:
            locator.click()

    def tick(self, locator: Any) -> None:
        if self.keyboard:
            press(self.page, locator, "Space")
        else:
            locator.check()
        assert locator.is_checked()

    def choose(self, locator: Any) -> None:
        if self.keyboard:
            choose_radio(self.page, locator)
        else:
            locator.check()
        assert locator.is_checked()
