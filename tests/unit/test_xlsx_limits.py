"""A small XLSX file that declares more shared strings than any staff list has is refused
before openpyxl loads them (the review's 455 KB file held 11 million: 378 s, 1.1 GB)."""

from __future__ import annotations

import io
import zipfile

import pytest

from vogscreen.intake import xlsx_limits
from vogscreen.intake.problems import XLSX_TOO_LARGE, FileProblem


def _workbook(strings: int, tag: bytes = b"<si><t>a</t></si>") -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/sharedStrings.xml", "w") as part,
    ):
        part.write(b'<?xml version="1.0"?><sst xmlns="urn:x">')
        # Written in pieces of a size that puts tags across the reader's 1 MiB chunks.
        piece = tag * 9_973
        for _ in range(strings // 9_973):
            part.write(piece)
        part.write(tag * (strings % 9_973))
        part.write(b"</sst>")
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def test_a_workbook_with_more_shared_strings_than_the_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(xlsx_limits, "XLSX_MAX_SHARED_STRINGS", 200_000)
    with pytest.raises(FileProblem) as refused:
        xlsx_limits.check_shared_strings(_workbook(200_001), {"xl/sharedStrings.xml"})
    assert refused.value.problem.code == XLSX_TOO_LARGE


@pytest.mark.parametrize("tag", [b"<si><t>a</t></si>", b'<x:si xml:space="p"><x:t>b</x:t></x:si>'])
def test_a_workbook_at_the_limit_passes_and_every_tag_is_counted_once(
    monkeypatch: pytest.MonkeyPatch, tag: bytes
) -> None:
    monkeypatch.setattr(xlsx_limits, "XLSX_MAX_SHARED_STRINGS", 200_000)
    xlsx_limits.check_shared_strings(_workbook(200_000, tag), {"xl/sharedStrings.xml"})
    with pytest.raises(FileProblem):
        xlsx_limits.check_shared_strings(_workbook(200_001, tag), {"xl/sharedStrings.xml"})
