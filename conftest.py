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
