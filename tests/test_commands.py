"""The command line as a whole: its generated reference, shared options, help text, error family.

Each test walks every command of the real `rjwatch` group, or runs the real CLI in a subprocess.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from rjwatch.commands import main
from rjwatch.commands.reference import REGENERATE, reference

ROOT = Path(__file__).resolve().parents[1]
#: Packages whose import makes `rjwatch --help` slow (scipy alone took ~1 s); none is needed for help.
HEAVY_MODULES = ("scipy", "numpy", "datasketch", "trafilatura", "scrapy", "sqlite_utils", "feedparser", "apprise")
#: Exceptions that are not errors a user causes: control flow inside one module, caught where raised.
INTERNAL_EXCEPTIONS = {"BlockedAddress", "Busy"}
#: The formats any `--format` may offer: one set for every command (parquet only for export).
ALL_FORMATS = {"table", "tsv", "csv", "json", "jsonl", "parquet", "atom"}


def _commands(command: click.Command = main, parent: click.Context | None = None, name: str = "rjwatch"):
    ctx = click.Context(command, parent=parent, info_name=name, **command.context_settings)
    yield ctx
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            yield from _commands(command.get_command(ctx, sub), ctx, sub)


def _cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {})}
    for var in ("RJWATCH_DB", "RJWATCH_CONFIG"):
        env.pop(var, None)
    return subprocess.run(
        [sys.executable, "-m", "rjwatch", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_reference_is_current():
    doc = ROOT / "docs" / "cli.md"
    assert doc.read_text("utf-8") == reference(), f"docs/cli.md is stale; regenerate it with: {REGENERATE}"


def test_reference_has_every_command():
    text = reference()
    paths = [ctx.command_path for ctx in _commands()]
    assert len(paths) > 40
    for path in paths:
        assert f"\n## {path}\n" in text


def test_every_option_has_help_and_every_argument_is_explained():
    missing = []
    for ctx in _commands():
        help_text = ctx.get_help()
        for param in ctx.command.get_params(ctx):
            if isinstance(param, click.Option):
                record = param.get_help_record(ctx)
                if record is not None and not record[1].strip():
                    missing.append(f"{ctx.command_path} {param.opts[0]}")
            elif isinstance(param, click.Argument):
                body = help_text.split("\n", 1)[1]  # below the usage line
                names = {param.make_metavar(ctx).strip("[].").rstrip("."), param.human_readable_name}
                if not any(n and n in body for n in names):
                    missing.append(f"{ctx.command_path} argument {param.name}")
    assert not missing, "no help for: " + ", ".join(missing)


def test_examples_keep_their_lines():
    """Every example line of a docstring is printed on a line of its own by --help (`\\b` before it)."""
    for ctx in _commands():
        doc = ctx.command.help or ""
        if "Example" not in doc:
            continue
        block = doc.split("Example", 1)[1].split("\n", 1)[1]
        assert "\b" in block.split("rjwatch", 1)[0], f"{ctx.command_path}: no \\b before the example"
        lines = {line.strip() for line in ctx.get_help().splitlines()}
        examples = [line.strip() for line in block.splitlines() if line.strip().startswith("rjwatch ")]
        assert examples, ctx.command_path
        for example in examples:
            assert example in lines, f"{ctx.command_path}: example run together: {example}"


def test_every_command_has_an_example():
    for ctx in _commands():
        if isinstance(ctx.command, click.Group) and not ctx.command.invoke_without_command:
            continue  # a group of commands (`source`, `seed`, ...): its commands have the examples
        assert "Example" in (ctx.command.help or ""), ctx.command_path


def test_format_takes_one_set_of_values():
    seen = set()
    for ctx in _commands():
        for param in ctx.command.get_params(ctx):
            if isinstance(param, click.Option) and param.name == "fmt":
                choices = set(param.type.choices)
                assert choices <= ALL_FORMATS, f"{ctx.command_path}: {choices - ALL_FORMATS}"
                assert "json" in choices or ctx.command_path == "rjwatch export", ctx.command_path
                seen |= choices
    assert seen == ALL_FORMATS


def test_db_and_config_work_before_and_after_the_command(db_path: Path, tmp_path: Path):
    other = tmp_path / "missing" / "other.db"  # a database that cannot exist
    assert _cli("search", "Kuril", "--db", str(db_path), cwd=tmp_path).returncode == 0
    assert _cli("--db", str(db_path), "search", "Kuril", cwd=tmp_path).returncode == 0
    # the value nearest the command wins
    near = _cli("--db", str(other), "search", "Kuril", "--db", str(db_path), cwd=tmp_path)
    assert near.returncode == 0, near.stderr
    far = _cli("--db", str(db_path), "search", "Kuril", "--db", str(other), cwd=tmp_path)
    assert far.returncode == 1 and far.stderr.startswith("rjwatch: error:") and "Traceback" not in far.stderr
    # and on the groups between: `source --db x list` and `source list --db x`
    for args in (
        ["source", "--db", str(db_path), "list", "--format", "json"],
        ["source", "list", "--format", "json", "--db", str(db_path)],
        ["alerts", "--db", str(db_path), "--format", "json"],
    ):
        done = _cli(*args, cwd=tmp_path)
        assert done.returncode == 0 and done.stdout.strip().startswith("["), (args, done.stderr)
    bad_config = tmp_path / "bad.toml"
    bad_config.write_text("batch_size = 'many'\n", "utf-8")
    refused = _cli("settings", "--config", str(bad_config), cwd=tmp_path)
    assert refused.returncode == 1 and "batch_size" in refused.stderr and "Traceback" not in refused.stderr
    assert _cli("--config", str(bad_config), "settings", cwd=tmp_path).returncode == 1


def test_text_is_still_taken_for_the_readable_format(db_path: Path, tmp_path: Path):
    for fmt in ("text", "table"):
        done = _cli("--db", str(db_path), "status", "--format", fmt, cwd=tmp_path)
        assert done.returncode == 0 and done.stdout.startswith("daemon:"), done.stderr


def test_help_loads_no_heavy_package(tmp_path: Path):
    code = (
        "import sys, rjwatch.commands as c; from click.testing import CliRunner; "
        "r = CliRunner().invoke(c.main, ['--help']); assert r.exit_code == 0, r.output; "
        f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"`rjwatch --help` imports {done.stdout.strip()}"


def _defined_exceptions():
    """(module, class name) of every exception class defined in the five packages (demo included)."""
    for package in ("judge", "storage", "crawler", "scheduler", "rjwatch"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text("utf-8"))
            for node in tree.body:
                if isinstance(node, ast.ClassDef) and any(
                    re.search(r"(Error|Exception)$", ast.unparse(b)) for b in node.bases
                ):
                    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                    yield module, node.name


def test_every_user_facing_error_is_an_rjwatch_error():
    from rjwatch.errors import RjwatchError

    found = list(_defined_exceptions())
    assert len(found) >= 17
    for module, name in found:
        cls = getattr(importlib.import_module(module), name)
        if not isinstance(cls, type) or not issubclass(cls, BaseException) or name in INTERNAL_EXCEPTIONS:
            continue
        assert issubclass(cls, RjwatchError), f"{module}.{name} is not an RjwatchError"


def test_the_error_base_is_light(tmp_path: Path):
    code = (
        "import sys, judge.errors, rjwatch.errors; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('judge', 'storage', 'crawler', 'scheduler', 'click', 'sqlite_utils')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.stdout.strip() == "['judge', 'judge.errors']", done.stdout + done.stderr


@pytest.mark.parametrize("args", [["--help"], ["search", "--help"], ["source", "add", "-h"]])
def test_help_through_the_entry_points(args, tmp_path: Path):
    done = _cli(*args, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("Usage: ")
    old = subprocess.run(
        [sys.executable, "-m", "rjwatch.cli", *args], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert old.returncode == 0 and old.stdout.split("\n", 1)[1] == done.stdout.split("\n", 1)[1]
