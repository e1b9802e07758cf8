from django.conf import settings
from django.db import models


class Message(models.Model):
    """An in-app message. Every notification creates one; SMS is an optional extra."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages")
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=300, blank=True)
    topic = models.CharField("类别", max_length=50, blank=True)
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "站内消息"
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at", "id"], name="message_user_unread")]

    def __str__(self):
        return self.title
