"""The page shell reads the user's scope stamp and unread count from the user row; database
triggers keep both true whatever writes (services or plain ORM), so a changed assignment
still takes effect on the very next request and the badge never lies."""

import pytest

from xiangzhi.accounts.models import User
from xiangzhi.accounts.services import assignment_add, assignment_remove
from xiangzhi.notifications.models import Message
from xiangzhi.notifications.services import mark_read, notify
from xiangzhi.org import services as org_services
from xiangzhi.org.models import Assignment

pytestmark = pytest.mark.django_db


def row(user):
    return User.objects.values("scope_stamp", "unread_messages").get(pk=user.pk)


def test_unread_count_follows_messages_through_every_path(cast):
    user = cast.secretary_a
    assert row(user)["unread_messages"] == 0
    first = notify(user=user, title="新事项")
    notify(user=user, title="第二条")
    Message.objects.create(user=user, title="直接写入")  # not through the service
    assert row(user)["unread_messages"] == 3
    assert mark_read(user=user, message_ids=[first.pk]) == 1
    assert row(user)["unread_messages"] == 2
    Message.objects.filter(pk=first.pk).update(read_at=None)  # marked unread again
    assert row(user)["unread_messages"] == 3
    Message.objects.filter(user=user, title="直接写入").delete()
    assert row(user)["unread_messages"] == 2
    Message.objects.create(user=user, title="已读", read_at="2026-01-01T00:00:00Z")
    assert row(user)["unread_messages"] == 2
    assert row(user)["unread_messages"] == Message.objects.filter(user=user, read_at__isnull=True).count()


def test_navbar_badge_shows_the_count(cast, client_for):
    user = cast.secretary_a
    for i in range(3):
        notify(user=user, title=f"消息{i}")
    page = client_for(user).get("/").content.decode()
    assert 'id="nav-unread">3<' in page


def test_scope_stamp_changes_with_assignments_and_regions(cast):
    user = cast.secretary_a
    stamps = {row(user)["scope_stamp"]}
    assert "" not in stamps  # a user with assignments never has the empty stamp
    added = assignment_add(actor=None, user=user, area_code=cast.grid_b1.code, role="grid_worker")
    stamps.add(row(user)["scope_stamp"])
    Assignment.objects.filter(pk=added.pk).update(role="village_cadre")  # plain ORM
    stamps.add(row(user)["scope_stamp"])
    assignment_remove(actor=None, assignment=Assignment.objects.get(pk=added.pk))
    stamps.add(row(user)["scope_stamp"])
    org_services.grid_create(actor=None, village_code=cast.grid_a1.code[:12], name="第九网格")
    stamps.add(row(user)["scope_stamp"])
    assert len(stamps) == 5
    assert row(cast.nobody)["scope_stamp"] == ""  # no assignment, nothing to re-stamp


def test_assignment_change_takes_effect_on_the_next_request(cast, client_for):
    """The per-process scope memo is keyed by the stamp: no stale scope after a change."""
    user = cast.grid_worker_a1
    client = client_for(user)
    other = cast.household_b1.pk
    assert client.get(f"/residents/h/{other}/").status_code == 404
    assignment = assignment_add(actor=None, user=user, area_code=cast.grid_b1.code, role="grid_worker")
    assert client.get(f"/residents/h/{other}/").status_code == 200
    Assignment.objects.filter(pk=assignment.pk).delete()  # removed behind the services' back
    assert client.get(f"/residents/h/{other}/").status_code == 404


def test_new_grid_appears_in_the_filter_on_the_next_request(cast, client_for):
    client = client_for(cast.secretary_a)
    assert "第九网格" not in client.get("/residents/").content.decode()
    org_services.grid_create(actor=None, village_code=cast.grid_a1.code[:12], name="第九网格")
    assert "第九网格" in client.get("/residents/").content.decode()
