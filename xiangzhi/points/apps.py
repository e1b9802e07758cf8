from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "xiangzhi.points"
    label = "points"
    verbose_name = "积分制与振风超市"

    def ready(self):
        from xiangzhi.core.periodic import register

        register("post_due_awards", 300)
