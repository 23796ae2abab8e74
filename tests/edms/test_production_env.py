"""infra/production.env.example names every setting edms reads.

An operator copies the example and reads it as the list of what can be set. A setting added to
the code without a line there is a setting nobody in operations will know about, so the names
the code reads — `edms.env` readers and direct `os.environ` look-ups, found in the source — are
checked against the example's lines (`NAME=…`, or `# NAME=…` for an optional one).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import settings

from edms import env

ROOT = Path(settings.BASE_DIR)
EXAMPLE = ROOT / "infra" / "production.env.example"
CODE_FOLDERS = [
    path
    for path in ROOT.iterdir()
    if path.is_dir() and (path / "__init__.py").exists() and path.name != "tests"
]
ENV_READERS = {name for name in dir(env) if name.startswith("env_")}
# Process plumbing, not settings: the sandbox sets these for its children.
NOT_SETTINGS = {"PATH", "HOME", "TMPDIR"}


def _constant_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def names_read(tree: ast.AST) -> set[str]:
    """Names read by `env_*("NAME", …)`, `os.environ.get("NAME")` or `os.environ["NAME"]`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            function = node.func
            reader = function.id if isinstance(function, ast.Name) else None
            if reader in ENV_READERS or (
                isinstance(function, ast.Attribute)
                and function.attr == "get"
                and _is_os_environ(function.value)
            ):
                names.add(_constant_name(node.args[0]))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if _is_os_environ(node.value):
                names.add(_constant_name(node.slice))
    return {name for name in names if name} - NOT_SETTINGS


def settings_in_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for folder in CODE_FOLDERS:
        for source in folder.rglob("*.py"):
            if "migrations" in source.parts:
                continue
            for name in names_read(ast.parse(source.read_text(), str(source))):
                found.setdefault(name, []).append(str(source.relative_to(ROOT)))
    return found


def settings_in_example() -> set[str]:
    """Every `NAME=` line, commented or not; `NAME_FILE=` names NAME (a secret kept in a file)."""
    line = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return {name.removesuffix("_FILE") for name in line.findall(EXAMPLE.read_text())}


def test_the_scan_finds_the_settings_it_should():
    found = settings_in_code()
    # One of each kind of read, so a scan that silently finds nothing cannot pass.
    assert "edms/settings.py" in found["DATABASE_URL"]  # env_str
    assert "edms/settings.py" in found["EDMS_OCR_DESKEW"]  # env_bool
    assert "edms/launcher.py" in found["WEB_THREADS"]  # os.environ.get
    assert "PATH" not in found


def test_every_setting_the_code_reads_is_in_the_production_example():
    missing = {
        name: where
        for name, where in settings_in_code().items()
        if name not in settings_in_example()
    }
    assert not missing, f"add these to {EXAMPLE.relative_to(ROOT)}: {missing}"


def test_the_example_names_no_setting_the_code_does_not_read():
    unknown = settings_in_example() - set(settings_in_code())
    assert not unknown, f"not read anywhere: {sorted(unknown)}"
