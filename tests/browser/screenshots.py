"""Save full-page PNG screenshots of pages of a running Worldbook, to look at them.

    python -m tests.browser.screenshots --base http://127.0.0.1:8000 --out /tmp/shots \\
        / /search?q=chloe /@chloe-dubois
    python -m tests.browser.screenshots --out /tmp/shots --email alice@example.org \\
        --password 'her password' /account/ /account/contacts

Each path is shot at every width of ``--widths`` (390 and 1280 px by default) into
``OUT/<path as a file name>-<width>.png``. With ``--email`` and ``--password`` (or the
``WORLDBOOK_PASSWORD`` environment variable) it signs in first through the sign-in page,
once per width, so the account must have no second factor. With ``--axe`` it also prints
axe-core's serious and critical violations and any sideways overflow for each shot. It
drives the same headless Chromium as the browser tests (``CHROMIUM_PATH``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from tests.browser.checks import AXE_CORE_PATH, measure_overflow, run_axe
from tests.browser.chromium import chromium_browser

SIGN_IN_PATH = "/account/sign-in/"


def shot_name(path: str, width: int) -> str:
    """A file name for the shot of ``path`` at ``width`` px: ``account-contacts-390.png``;
    ``/`` becomes ``home``."""
    stem = re.sub(r"[^A-Za-z0-9@._-]+", "-", path).strip("-") or "home"
    return f"{stem}-{width}.png"


def sign_in(page, base: str, email: str, password: str) -> None:
    """Sign in through the sign-in page; raise ``SystemExit`` when the site keeps the
    visitor there (wrong password, or a second factor asked for)."""
    page.goto(base + SIGN_IN_PATH)
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    if page.url.split("?")[0].startswith(base + "/account/sign-in"):
        raise SystemExit(f"could not sign in as {email} (wrong password or a second factor)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.browser.screenshots", description=__doc__.split("\n")[0]
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="paths to shoot, e.g. /account/")
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the site's address")
    parser.add_argument("--out", required=True, type=Path, help="folder for the PNG files")
    parser.add_argument(
        "--widths", default="390,1280", help="window widths in px, comma-separated (390,1280)"
    )
    parser.add_argument("--height", type=int, default=800, help="window height in px (800)")
    parser.add_argument("--email", help="sign in with this account's email address first")
    parser.add_argument(
        "--password", default=os.environ.get("WORLDBOOK_PASSWORD"), help="its password"
    )
    parser.add_argument(
        "--axe", action="store_true", help="also report axe-core violations and overflow"
    )
    args = parser.parse_args(argv)
    if args.email and not args.password:
        parser.error("--email needs --password (or WORLDBOOK_PASSWORD)")
    if args.axe and not AXE_CORE_PATH.is_file():
        parser.error(f"--axe needs axe-core: run `npm ci` in tests/browser ({AXE_CORE_PATH})")
    widths = [int(width) for width in args.widths.split(",")]
    base = args.base.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)

    with chromium_browser() as browser:
        for width in widths:
            context = browser.new_context(viewport={"width": width, "height": args.height})
            page = context.new_page()
            if args.email:
                sign_in(page, base, args.email, args.password)
            for path in args.paths:
                response = page.goto(base + path)
                target = args.out / shot_name(path, width)
                page.screenshot(path=str(target), full_page=True)
                status = response.status if response else "?"
                print(f"{target}  ({status}, {page.url})")
                if args.axe:
                    overflow = measure_overflow(page)
                    if overflow:
                        print(f"  scrolls sideways: {overflow}")
                    for violation in run_axe(page):
                        print(f"  {violation}")
            context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
