from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("regions/", views.region_list, name="region_list"),
    path("regions/<str:code>/", views.region_detail, name="region_detail"),
    path("regions/<str:code>/children/", views.region_children, name="region_children"),
    path("regions/<str:code>/grids/", views.grid_create, name="grid_create"),
    path("regions/<str:code>/edit/", views.grid_update, name="grid_update"),
]
