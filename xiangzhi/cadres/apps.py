from django.apps import AppConfig


class CadresConfig(AppConfig):
    name = "xiangzhi.cadres"
    label = "cadres"
    verbose_name = "干部队伍"
