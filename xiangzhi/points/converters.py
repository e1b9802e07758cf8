"""URL converter for database ids: at most 18 digits, so a huge number in a URL is a 404
and never an integer overflow (500) in the database driver."""

from django.urls import register_converter
from django.urls.converters import IntConverter


class IdConverter(IntConverter):
    regex = "[0-9]{1,18}"


register_converter(IdConverter, "points_id")
