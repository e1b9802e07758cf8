from django.apps import AppConfig


class CadresConfig(AppConfig):
    name = "xiangzhi.cadres"
    label = "cadres"
    verbose_name = "干部队伍"

    def ready(self):
        from . import workbench  # noqa: F401  (registers the home work-bench panel)
