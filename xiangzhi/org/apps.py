from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "xiangzhi.org"
    label = "org"
    verbose_name = "组织区划"
