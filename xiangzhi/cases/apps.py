from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "xiangzhi.cases"
    label = "cases"
    verbose_name = "矛盾纠纷与信访"

    def ready(self):
        from xiangzhi.core.periodic import register

        register("escalate_overdue_cases", 600)
        from . import workbench  # noqa: F401  (registers the home work-bench panel)
