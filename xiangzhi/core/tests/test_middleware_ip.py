"""Which address the audit log and the rate limits see (docs/deploy.md: nginx in front)."""

from django.test import RequestFactory, override_settings

from xiangzhi.core.middleware import client_ip

rf = RequestFactory()


def req(xff=None, remote="10.0.0.5"):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return rf.get("/", **extra)


@override_settings(TRUSTED_PROXY_HOPS=0)
def test_without_a_proxy_the_header_is_ignored():
    assert client_ip(req("1.2.3.4")) == "10.0.0.5"  # a client cannot pick its own address


@override_settings(TRUSTED_PROXY_HOPS=1)
def test_behind_nginx_the_address_nginx_saw_counts():
    assert client_ip(req("36.1.2.3")) == "36.1.2.3"
    # a forged entry on the left is ignored: nginx appended the real one on the right
    assert client_ip(req("6.6.6.6, 36.1.2.3")) == "36.1.2.3"
    assert client_ip(req("")) == "10.0.0.5"  # no header: the socket's address
