from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "xiangzhi.points"
    label = "points"
    verbose_name = "积分制与振风超市"

    def ready(self):
        from xiangzhi.core.periodic import register

        register("post_due_awards", 300)
        from django.conf import settings

        if getattr(settings, "POINTS_EXPIRY_YEARS", None):  # off by default (expiry.py)
            register("expire_points", 86400)
        from . import panels, workbench  # noqa: F401  (一户一档 panel, home work-bench panels)
