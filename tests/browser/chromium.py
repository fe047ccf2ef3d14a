"""The headless Chromium the browser tests drive (Debian's ``chromium`` package)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def chromium_browser() -> Iterator[object]:
    """Start Chromium at :data:`CHROMIUM_PATH` headless through Playwright (which
    downloads no browser); yield the Playwright ``Browser`` and close it afterwards.

    Playwright's sync API runs an event loop in the calling thread while it is open, and
    Django refuses ORM calls inside one: touch the database before or after, not within.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
