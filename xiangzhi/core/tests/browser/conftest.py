"""Browser-test fixtures (``make test-browser``; marker ``browser``).

The app runs the way ``make run`` runs it — production settings, gunicorn, whitenoise,
DEBUG off — in a subprocess with its own data folder (SQLite, keys, static files) and the
demo data of ``manage.py load_demo``. Playwright drives Debian's ``/usr/bin/chromium``
(it never downloads a browser). Screenshots and the server log go to ``artifacts/``
(``ARTIFACTS_DIR`` to move it).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("XIANGZHI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
SETUP_COMMANDS = [
    ["migrate", "--noinput", "-v0"],
    ["import_regions"],
    ["collectstatic", "--noinput", "-v0"],
    ["load_demo"],
]


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("ARTIFACTS_DIR") or Path(settings.BASE_DIR) / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(data_dir: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        # the pytest process points these at its own test database / key: not the server's
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "XIANGZHI_FIELD_KEY", "XIANGZHI_HTTPS", "DEBUG"}
    }
    env.update(DJANGO_SETTINGS_MODULE="xiangzhi.settings", XIANGZHI_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    return env


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# One server and one browser per test session, even when another test module imports these
# fixtures (which makes pytest see a second definition): both definitions share _SHARED.
_SHARED: dict = {}


@pytest.fixture(scope="session")
def live_url(tmp_path_factory, artifacts_dir):
    """Base URL of a gunicorn server over a fresh data folder loaded with the demo data."""
    if "url" in _SHARED:
        yield _SHARED["url"]
        return
    base = Path(settings.BASE_DIR)
    data_dir = tmp_path_factory.mktemp("xiangzhi-browser-data")
    env = _server_env(data_dir)
    _SHARED["env"] = env  # for manage(): commands against the server's own database
    log_path = artifacts_dir / "browser-server.log"
    with log_path.open("w") as log:
        for command in SETUP_COMMANDS:
            log.write(f"$ manage.py {' '.join(command)}\n")
            log.flush()
            done = subprocess.run(  # noqa: S603
                [sys.executable, "manage.py", *command],
                cwd=base,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=600,
                check=False,
            )
            if done.returncode != 0:
                pytest.fail(f"manage.py {' '.join(command)} failed ({done.returncode}):\n{_tail(log_path)}")
    port = _free_port()
    log = log_path.open("a")
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable, "-m", "gunicorn", "xiangzhi.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "2", "--timeout", "60",
            "--access-logfile", "-", "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        ],
        cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited ({server.returncode}):\n{_tail(log_path)}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as resp:  # noqa: S310
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer /healthz within 60 s:\n{_tail(log_path)}")
            time.sleep(0.3)
        _SHARED["url"] = url
        yield url
    finally:
        _SHARED.pop("url", None)
        _SHARED.pop("env", None)
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, driven by Playwright's sync API (one per session)."""
    if "browser" in _SHARED:
        yield _SHARED["browser"]
        return
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium fonts-noto-cjk)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        _SHARED["browser"] = browser
        try:
            yield browser
        finally:
            _SHARED.pop("browser", None)
            browser.close()


class RequestLog:
    """Every URL the page asked for; requests to other hosts are recorded and aborted."""

    def __init__(self):
        self.urls: list[str] = []
        self.foreign: list[str] = []

    def route(self, route):
        url = route.request.url
        self.urls.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            self.foreign.append(url)
            route.abort()
        else:
            route.continue_()


@dataclass
class Phone:
    page: object  # playwright.sync_api.Page
    base_url: str
    requests: RequestLog

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)


PHONE_CONTEXT = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
DESKTOP_CONTEXT = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def phone(browser, live_url):
    """A page in a 375×812 phone context (touch, device pixel ratio 2) and its request log."""
    context = browser.new_context(**PHONE_CONTEXT)
    context.set_default_timeout(15_000)
    requests = RequestLog()
    context.route("**/*", requests.route)
    yield Phone(page=context.new_page(), base_url=live_url, requests=requests)
    context.close()


@pytest.fixture
def devices(browser, live_url):
    """Opens one more browser context per person of a multi-user flow, in the session's one
    browser: ``devices("phone")`` (375×812) or ``devices("desktop")`` (1280×900) → Phone
    (page, base_url, request log). All are closed when the test ends."""
    contexts = []

    def open_device(kind: str = "phone") -> Phone:
        context = browser.new_context(**(PHONE_CONTEXT if kind == "phone" else DESKTOP_CONTEXT))
        context.set_default_timeout(15_000)
        contexts.append(context)
        requests = RequestLog()
        context.route("**/*", requests.route)
        return Phone(page=context.new_page(), base_url=live_url, requests=requests)

    yield open_device
    for context in contexts:
        context.close()


def manage(*args: str, timeout: int = 120) -> str:
    """``manage.py <args>`` against the live server's data folder (its database and keys),
    e.g. ``manage("shell", "-c", code)`` to call a service the UI cannot (a clock jump).
    Needs the ``live_url`` fixture; returns stdout, fails the test on a non-zero exit."""
    env = _SHARED.get("env")
    if env is None:
        raise RuntimeError("manage() needs the live_url fixture")
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"manage.py {args[0] if args else ''} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def login(phone: Phone, username: str, password: str) -> None:
    page = phone.page
    phone.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/accounts/login/" not in page.url, f"login as {username} failed: {page.url}"


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1
