"""Browser tests: a real headless Chromium (Debian's ``chromium`` package) driven by
Playwright against a live server on 127.0.0.1, port 0.

Playwright downloads no browser here: it starts the one at ``CHROMIUM_PATH`` (default
``/usr/bin/chromium``). Without it the tests are skipped with the reason, except under
``CI=true``, where a missing browser fails the run (``.ci/run`` installs it). The same goes
for axe-core (``npm ci`` in ``tests/browser/``, or ``AXE_CORE_PATH``) in the tests that
check accessibility: see :func:`require_axe_core`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.browser.checks import AXE_CORE_PATH
from tests.browser.chromium import CHROMIUM_PATH

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM_PATH):
        return
    for item in items:
        if "browser" not in item.keywords:
            continue
        if IN_CI:
            pytest.fail(
                f"CI=true but no Chromium at {CHROMIUM_PATH} ({item.nodeid})", pytrace=False
            )
        item.add_marker(
            pytest.mark.skip(reason=f"needs Chromium: install Debian's chromium ({CHROMIUM_PATH})")
        )


def require_axe_core() -> None:
    """Skip the calling test (or fixture) when axe-core is not installed, saying how to
    install it; under ``CI=true`` fail instead, so CI cannot pass by skipping."""
    if AXE_CORE_PATH.is_file():
        return
    reason = f"needs axe-core: run `npm ci` in tests/browser ({AXE_CORE_PATH} is missing)"
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def loopback_server(transactional_db, settings) -> Iterator[str]:
    """A live server on 127.0.0.1 with an ephemeral port; yields its URL."""
    from pytest_django.live_server_helper import LiveServer

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    server = LiveServer("127.0.0.1:0")
    try:
        yield server.url
    finally:
        server.stop()
