from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "xiangzhi.visits"
    label = "visits"
    verbose_name = "走访与联系群众"
