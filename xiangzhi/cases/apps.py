from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "xiangzhi.cases"
    label = "cases"
    verbose_name = "矛盾纠纷与信访"
