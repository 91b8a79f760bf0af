"""Packaging: pyproject.toml gives setuptools nothing to warn about (license, data directories)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parent.parent


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def test_license_is_an_spdx_expression_and_the_backend_reads_it():
    conf = _project()
    assert isinstance(conf["project"]["license"], str)  # a TOML table is deprecated (setuptools 77+)
    (req,) = [r for r in conf["build-system"]["requires"] if r.startswith("setuptools")]
    assert int(re.search(r">=(\d+)", req).group(1)) >= 77


def test_every_data_file_belongs_to_a_found_package_and_a_package_data_glob():
    conf = _project()["tool"]["setuptools"]
    find = conf["packages"]["find"]
    assert find.get("namespaces") is True
    packages = set(find_namespace_packages(str(ROOT), include=find["include"]))
    data = conf["package-data"]
    roots = sorted({p.split(".")[0] for p in packages})
    missing = []
    for root in roots:
        for path in (ROOT / root).rglob("*"):
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT)
            package = ".".join(rel.parent.parts)
            in_glob = any(fnmatch.fnmatch(str(rel.relative_to(root)), g) for g in data.get(root, []))
            if package not in packages or not in_glob:
                missing.append(str(rel))
    assert not missing, f"data files setuptools would warn about or leave out: {missing}"
