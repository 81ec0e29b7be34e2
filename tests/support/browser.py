"""A real headless Chromium (Debian package ``chromium``) for the UI tests, one per test module.

Without Chromium (or the playwright package) the tests that use ``browser`` skip with the reason; on CI
(``CI`` set) they fail.
"""

from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get("INDIKERA_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def unavailable() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser():
    why = unavailable()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI requires the browser tests to run: {why}", pytrace=False)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
