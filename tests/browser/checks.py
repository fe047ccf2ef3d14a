"""Page-wide checks for the browser tests: the page fits the window's width, and axe-core
finds no serious or critical accessibility violation.

axe-core is the npm package pinned in ``tests/browser/package.json`` (``npm ci`` in
``tests/browser/`` installs it; ``.ci/run`` and ``./deploy/test`` do so when npm is present).
``AXE_CORE_PATH`` names another ``axe.min.js``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

AXE_CORE_PATH = Path(
    os.environ.get("AXE_CORE_PATH")
    or Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
)

# The impacts that fail a page (axe-core's scale: minor, moderate, serious, critical).
FAILING_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class Violation:
    """One axe-core rule a page breaks: its id, impact, what it asks for, the CSS selectors
    of the elements that break it and, for each, axe-core's word on why (same order)."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]
    reasons: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"{self.rule} [{self.impact}] {self.help}:"]
        reasons = self.reasons or ("",) * len(self.targets)
        for target, reason in list(zip(self.targets, reasons, strict=True))[:8]:
            lines.append(f"    {target}" + (f" — {reason}" if reason else ""))
        if len(self.targets) > 8:
            lines.append(f"    (+{len(self.targets) - 8} more)")
        return "\n".join(lines)


@dataclass(frozen=True)
class Overflow:
    """How far a page is wider than its window, and the elements that reach past it
    (selector and right edge in CSS pixels), widest first."""

    width: int
    scroll_width: int
    culprits: tuple[tuple[str, int], ...]

    def __str__(self) -> str:
        listed = "; ".join(
            f"{selector} (right edge {right} px)" for selector, right in self.culprits
        )
        return f"{self.scroll_width} px wide in a {self.width} px window: {listed or 'no element'}"


def _target(node_target: list) -> str:
    # An element in a shadow tree or frame comes as a list of selectors, outermost first.
    return " >>> ".join(part if isinstance(part, str) else " ".join(part) for part in node_target)


def _reason(node: dict) -> str:
    # axe-core's checks: "any" fails when none passes, "all" and "none" when one fails.
    for check in node.get("any", []) + node.get("all", []) + node.get("none", []):
        if check.get("message"):
            return check["message"]
    return ""


@functools.cache
def _axe_source() -> str:
    return AXE_CORE_PATH.read_text(encoding="utf-8")


def run_axe(page, *, impacts: tuple[str, ...] = FAILING_IMPACTS) -> list[Violation]:
    """Run axe-core (``AXE_CORE_PATH``) in the Playwright ``page`` as it stands and return
    its violations whose impact is in ``impacts`` (serious and critical by default), each
    with the selectors of the offending elements.

    Raises ``FileNotFoundError`` when axe-core is not installed. Standard: WCAG 2.x as
    axe-core's default rule set checks it (A, AA and best practices).
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy
        # does not govern (a <script> tag would be refused, as it should be).
        page.evaluate(_axe_source())
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        Violation(
            rule=violation["id"],
            impact=violation["impact"],
            help=violation["help"],
            targets=tuple(_target(node["target"]) for node in violation["nodes"]),
            reasons=tuple(_reason(node) for node in violation["nodes"]),
        )
        for violation in results["violations"]
        if violation["impact"] in impacts
    ]


# The outermost elements whose box or text passes the window's right edge (inside no box
# that clips or scrolls its overflow), widest first; each named by the path from its
# nearest ancestor with an id: tag, up to three classes, and place among same-tag siblings.
_OVERFLOW_SCRIPT = """
(limit) => {
  const width = window.innerWidth;
  const selector = (el) => {
    const parts = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      if (node.id) { parts.unshift('#' + CSS.escape(node.id)); break; }
      let part = node.localName;
      const classes = [...node.classList].slice(0, 3).map((c) => '.' + CSS.escape(c)).join('');
      part += classes;
      const parent = node.parentElement;
      if (parent) {
        const same = [...parent.children].filter((c) => c.localName === node.localName);
        if (same.length > 1) part += `:nth-of-type(${same.indexOf(node) + 1})`;
      }
      parts.unshift(part);
      if (node.localName === 'body') break;
    }
    return parts.join(' > ');
  };
  // An element inside a box that clips or scrolls its overflow does not widen the page.
  const clipped = (el) => {
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      if (getComputedStyle(node).overflowX !== 'visible') return true;
    }
    return false;
  };
  const wide = [];
  const note = (el, right) => {
    if (right > width + 0.5 && !clipped(el)) wide.push([el, Math.round(right)]);
  };
  for (const el of document.body.querySelectorAll('*')) {
    note(el, el.getBoundingClientRect().right + window.scrollX);
  }
  // Text that runs out of its box (a long word, a <pre>) counts against its element.
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let text = texts.nextNode(); text; text = texts.nextNode()) {
    if (!text.data.trim() || getComputedStyle(text.parentElement).overflowX !== 'visible') continue;
    range.selectNodeContents(text);
    const right = range.getBoundingClientRect().right + window.scrollX;
    if (!wide.some(([el]) => el === text.parentElement)) note(text.parentElement, right);
  }
  // Keep the outermost offenders: an element inside one already listed adds nothing.
  const outer = wide.filter(([el]) => !wide.some(([other]) => other !== el && other.contains(el)));
  outer.sort((a, b) => b[1] - a[1]);
  return {
    width,
    scrollWidth: document.documentElement.scrollWidth,
    culprits: outer.slice(0, limit).map(([el, right]) => [selector(el), right]),
  };
}
"""


def measure_overflow(page, *, limit: int = 5) -> Overflow | None:
    """The page's sideways overflow: ``None`` when ``document.documentElement.scrollWidth``
    is at most ``window.innerWidth``, else an :class:`Overflow` naming up to ``limit`` of
    the outermost elements that reach past the window, widest first."""
    found = page.evaluate(_OVERFLOW_SCRIPT, limit)
    if found["scrollWidth"] <= found["width"]:
        return None
    return Overflow(
        width=found["width"],
        scroll_width=found["scrollWidth"],
        culprits=tuple((selector, right) for selector, right in found["culprits"]),
    )


def assert_fits(page, width: int) -> None:
    """Assert that the page in a ``width`` px wide window does not scroll sideways
    (``document.documentElement.scrollWidth <= window.innerWidth``); the failure names the
    elements that overflow, by selector and right edge."""
    assert page.viewport_size["width"] == width, page.viewport_size
    overflow = measure_overflow(page)
    assert overflow is None, f"{page.url} scrolls sideways: {overflow}"


def assert_no_axe_violations(page) -> None:
    """Assert that axe-core finds no serious or critical violation in the page; the failure
    lists each rule with the selectors of its offending elements."""
    violations = run_axe(page)
    assert not violations, f"{page.url}: axe-core violations:\n" + "\n".join(
        f"  {violation}" for violation in violations
    )


# Installed in every page before its own scripts run: keeps each Content-Security-Policy
# violation the browser reports (the ``securitypolicyviolation`` event of CSP Level 3).
CSP_WATCH_SCRIPT = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} refused ${event.blockedURI || '(inline)'}` +
    (event.sourceFile ? ` at ${event.sourceFile}:${event.lineNumber}` : ''));
});
"""


def watch_csp(context) -> None:
    """Make every page of the Playwright browser ``context`` keep the Content-Security-
    Policy violations it reports; read them with :func:`csp_violations`."""
    context.add_init_script(CSP_WATCH_SCRIPT)


def csp_violations(page) -> tuple[str, ...]:
    """The CSP violations the page reported so far (directive, what was refused, where);
    empty when the page broke none. Needs :func:`watch_csp` on the page's context."""
    found = page.evaluate("() => window.__cspViolations ?? null")
    return ("the page was not watched (watch_csp)",) if found is None else tuple(found)
