"""Registry import/export pages: roster upload with per-row error report and progress bar,
the import template, the error report download, and the masked, audited Excel export.

URL names (app ``residents``): ``import``, ``import_template``, ``import_job``,
``import_progress``, ``import_errors``, ``export``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload, TemporaryFileUploadHandler
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from xiangzhi import audit
from xiangzhi.audit.services import AuditWriteError
from xiangzhi.core.registers import file_response
from xiangzhi.core.views import permission_required

from . import importer
from .models import ImportJob
from .registers import (
    IMPORT_ERRORS,
    ROSTER,
    TEMPLATE_EXAMPLES,
    TEMPLATE_NOTE,
    clean_filters,
    export_context,
    export_rows,
    export_title,
)

IMPORT_PERM = "residents.import_household"
EXPORT_PERM = "residents.export_household"
MULTIPART_OVERHEAD = 64 * 1024  # form fields and part headers around the file
SHOWN_ERRORS = 200


class _SizeLimitHandler(FileUploadHandler):
    """Stops reading an upload as soon as it passes IMPORT_MAX_BYTES (for requests whose
    Content-Length did not already tell)."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.xz_upload_too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def _too_large_message() -> str:
    return importer.TOO_LARGE.format(mb=importer.max_mb())


def _import_context(request, *, errors=None, area_code: str = "") -> dict:
    user = request.user
    areas = importer.import_areas(user)
    if not area_code and len(areas) == 1:
        area_code = areas[0]["code"]
    jobs = list(ImportJob.objects.restrict(user, "import").select_related("created_by")[:10])
    return {
        "areas": areas,
        "area_code": area_code,
        "errors": errors or {},
        "jobs": jobs,
        "max_mb": importer.max_mb(),
        "background_rows": settings.IMPORT_BACKGROUND_ROWS,
    }


@permission_required(IMPORT_PERM)
@csrf_exempt  # checked by _import_page below, after the upload handlers are in place
@require_http_methods(["GET", "POST"])
def import_page(request):
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.IMPORT_MAX_BYTES + MULTIPART_OVERHEAD:
            # refuse before reading the body: an 80 MB upload never reaches the disk
            context = _import_context(request, errors={"file": _too_large_message()})
            response = render(request, "residents/io/import.html", context, status=413)
            response["Connection"] = "close"
            return response
        request.upload_handlers = [
            _SizeLimitHandler(request, settings.IMPORT_MAX_BYTES),
            TemporaryFileUploadHandler(request),
        ]
    return _import_page(request)


@csrf_protect
def _import_page(request):
    if request.method != "POST":
        return render(request, "residents/io/import.html", _import_context(request))
    area_code = (request.POST.get("area_code") or "").strip()[:15]
    if getattr(request, "xz_upload_too_large", False):
        errors = {"file": _too_large_message()}
        return render(request, "residents/io/import.html", _import_context(request, errors=errors), status=413)
    try:
        job = importer.start_import(actor=request.user, area_code=area_code, uploaded=request.FILES.get("file"))
    except ValidationError as exc:
        errors = {k: v[0] for k, v in exc.message_dict.items()}
        context = _import_context(request, errors=errors, area_code=area_code)
        return render(request, "residents/io/import.html", context, status=400)
    except PermissionDenied:
        context = _import_context(request, errors={"area_code": "您无权在该区域导入"}, area_code=area_code)
        return render(request, "residents/io/import.html", context, status=403)
    return redirect("residents:import_job", pk=job.pk)


def _job(request, pk) -> ImportJob:
    return get_object_or_404(ImportJob.objects.restrict(request.user, "import").select_related("created_by"), pk=pk)


def _job_context(job: ImportJob) -> dict:
    from xiangzhi.org.selectors import area_name

    return {
        "job": job,
        "progress": importer.get_progress(job),
        "area": area_name(job.area_code),
        "shown_errors": (job.errors or [])[:SHOWN_ERRORS],
        "more_errors": max(job.error_count - SHOWN_ERRORS, 0),
    }


@permission_required(IMPORT_PERM)
@require_GET
def import_job(request, pk: int):
    job = _job(request, pk)
    return render(request, "residents/io/job.html", _job_context(job))


@permission_required(IMPORT_PERM)
@require_GET
def import_progress(request, pk: int):
    job = _job(request, pk)
    response = render(request, "residents/io/_progress.html", _job_context(job))
    response["Cache-Control"] = "no-store"
    return response


@permission_required(IMPORT_PERM)
@require_GET
def import_errors(request, pk: int):
    job = _job(request, pk)
    if not job.errors:
        return redirect("residents:import_job", pk=job.pk)
    path, _ = IMPORT_ERRORS.export_file(
        job.errors,
        title=f"导入错误报告：{job.file_name}",
        subtitle=f"共 {job.error_count} 处错误；行号为原表格中的行号。修改后请重新上传整个文件。",
    )
    return file_response(path, f"导入错误报告-{job.pk}.xlsx")


@permission_required(IMPORT_PERM)
@require_GET
def import_template(request):
    return ROSTER.template_response(
        filename="户籍人口花名册导入模板.xlsx", note=TEMPLATE_NOTE, examples=TEMPLATE_EXAMPLES
    )


@permission_required(EXPORT_PERM)
@require_GET
def export(request):
    """The filtered registry (same filters as the list) as .xlsx, one row per resident, ID
    and phone masked. Written in constant memory to a temporary file, audited, streamed."""
    user = request.user
    filters = clean_filters(request.GET)
    title, subtitle = export_title(user, filters)
    rows = export_rows(user, filters)
    path, count = ROSTER.export_file(rows, title=title, subtitle=subtitle, ctx=export_context(user, filters))
    try:
        audit.record(
            user,
            "residents.export",
            ("residents.resident", ""),
            area_code=filters["area_code"],
            register="roster",
            rows=count,
            filters={k: v for k, v in filters.items() if v},
        )
    except AuditWriteError:
        path.unlink(missing_ok=True)
        return HttpResponse(
            "审计记录写入失败，未导出任何数据，请稍后重试。", status=503, content_type="text/plain; charset=utf-8"
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return file_response(path, f"户籍人口花名册-{stamp}.xlsx")


urlpatterns = [
    path("import/", import_page, name="import"),
    path("import/template/", import_template, name="import_template"),
    path("import/<int:pk>/", import_job, name="import_job"),
    path("import/<int:pk>/progress/", import_progress, name="import_progress"),
    path("import/<int:pk>/errors/", import_errors, name="import_errors"),
    path("export/", export, name="export"),
]
