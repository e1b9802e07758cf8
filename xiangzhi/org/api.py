from ninja import Router, Schema
from ninja.errors import HttpError

from xiangzhi.core.api import ErrorOut

from . import selectors

router = Router(tags=["行政区划"])


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None = None


def _out(region) -> dict:
    return {"code": region.code, "name": region.name, "level": region.level, "parent": region.parent_id}


@router.get("/{code}", auth=None, response={200: RegionOut, 404: ErrorOut, 422: ErrorOut}, summary="区划详情")
def region_detail(request, code: str):
    """公开：一个区划（省/市/县/乡镇/村，不含网格）。"""
    region = selectors.public_region(code)
    if region is None:
        raise HttpError(404, "区划不存在")
    return _out(region)


@router.get(
    "/{code}/children", auth=None, response={200: list[RegionOut], 404: ErrorOut, 422: ErrorOut}, summary="下级区划"
)
def region_children(request, code: str):
    """公开：下一级区划（不含网格）。"""
    region = selectors.public_region(code)
    if region is None:
        raise HttpError(404, "区划不存在")
    return [_out(r) for r in selectors.public_children(region)]
