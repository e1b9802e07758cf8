from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "xiangzhi.residents"
    label = "residents"
    verbose_name = "户籍档案"

    def ready(self):
        from xiangzhi.core.periodic import register

        register("reset_stuck_imports", 600)
        from . import workbench  # noqa: F401  (registers the home panel)
