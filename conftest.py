import pytest
from django.db import connection


@pytest.fixture
def cast(db):
    from xiangzhi.core.testing import build_cast

    return build_cast()


@pytest.fixture
def client_for(client):
    """client_for(user) -> a Django test client logged in as that user (force_login
    plus the session markers the session policy middleware expects)."""
    import time

    def _login(user):
        from django.test import Client

        c = Client()
        c.force_login(user)
        s = c.session
        s["login_at"] = s["seen_at"] = time.time()
        s["staff"] = not user.assignments.filter(role="villager").exists()
        s.save()
        return c

    return _login


@pytest.fixture
def pg_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped at collection on SQLite, before any database
    set-up (a transactional test's flush would otherwise meet the append-only triggers)."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://…)")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_work_calendar():
    """Staff-entered calendar days are cached per process for a minute; a test's entries
    are rolled back with its transaction, so no test may see another's cache."""
    from xiangzhi.core import workcalendar

    workcalendar.invalidate()
    yield
    workcalendar.invalidate()
