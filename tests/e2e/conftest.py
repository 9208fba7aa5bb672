"""What the end-to-end tests share: one running ``python app.py`` (its own data
folder, started once for the whole tier; Chromium is ``tests/conftest.py``'s). Tests that
need the app started differently (other environment, a library they prepare)
start their own with :func:`tests.e2e.test_app.serve_app`."""

from __future__ import annotations

import pytest

from tests.e2e.test_app import UI_TIMEOUT_MS, isolated_home, serve_app


@pytest.fixture(scope="session")
def app_home(tmp_path_factory):
    """The shared app's ``VOICECLONE_HOME`` (the assembled-model cache linked in).
    Each visitor's voices live in a folder of their own below it."""
    return isolated_home(tmp_path_factory.mktemp("app-home"))


@pytest.fixture(scope="session")
def app_url(app_home):
    """The app on a free localhost port, with a trailing slash."""
    with serve_app(app_home) as url:
        yield url


@pytest.fixture
def page(browser, app_url):
    """A fresh desktop-sized page on the shared app, its voice tab loaded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(app_url)
    page.locator("#reference-audio").wait_for(state="visible")
    try:
        yield page
    finally:
        context.close()
