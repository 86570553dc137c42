"""A plain install carries every part of the package: each folder is in the package list."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_folder_of_the_package_is_installed() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    folders = {
        ".".join(path.relative_to(ROOT).parts)
        for path in (ROOT / "vogscreen").rglob("*")
        if path.is_dir()
        and path.name != "__pycache__"
        and any(child.suffix in (".py", ".html", ".txt", ".mako") for child in path.iterdir())
    }
    assert folders - listed == set()
