from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "xiangzhi.visits"
    label = "visits"
    verbose_name = "走访与联系群众"

    def ready(self):
        from . import panels, workbench  # noqa: F401  (一户一档 走访记录 panel, home work-bench panel)
