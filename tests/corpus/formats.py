"""Writers for the file formats of the corpus: workbooks, ZIPs, OLE2 containers, images.

XLSX files are written by openpyxl, with fixed timestamps so that the corpus is the same
byte for byte every time it is written.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence

import openpyxl
from openpyxl.writer.excel import ExcelWriter

from vogscreen.testing import HEADER, FakeEmployee

MiB = 1024 * 1024
_ZIP_TIME = (2026, 1, 5, 9, 0, 0)
_SAVED_AT = dt.datetime(2026, 1, 5, 9, 0)


def zip_of(members: Iterable[tuple[str, bytes]], *, stored: Sequence[str] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def members_of(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def xlsx(
    *sheets: Sequence[Sequence[object]],
    patch: Callable[[str, bytes], bytes] = lambda name, data: data,
) -> bytes:
    """A workbook written by openpyxl; each argument is one sheet's rows."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for number, rows in enumerate(sheets, start=1):
        sheet = workbook.create_sheet(f"Blad{number}")
        for cells in rows:
            sheet.append(list(cells))
    workbook.properties.created = workbook.properties.modified = _SAVED_AT
    buffer = io.BytesIO()
    # ExcelWriter rather than workbook.save(), which stamps the current time into the file.
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return zip_of((name, patch(name, data)) for name, data in members_of(buffer.getvalue()))


def xlsx_cells(employee: FakeEmployee) -> list[object]:
    """A row as Excel holds it: the BSN a number, dates date cells."""
    return [
        int(employee.bsn),
        employee.birth_date,
        employee.surname,
        employee.prefix or None,
        employee.initials,
        employee.personeelsnummer,
        employee.brin,
        employee.function,
        employee.start_date,
        employee.end_date,
        employee.vog_date,
    ]


def _pack(fields: Sequence[tuple[str, object]]) -> bytes:
    return struct.pack("<" + "".join(kind for kind, _ in fields), *(value for _, value in fields))


_END, _FREE, _NONE = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF


def ole2(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file: the container of .xls and of encrypted Office files.

    Sector 0 holds the FAT, sector 1 the directory, the streams follow. Streams are padded to
    4096 bytes, so that they live in ordinary sectors and no mini stream is needed.
    """
    sector = 512
    bodies = [data.ljust(4096, b"\0") for data in streams.values()]
    fat = [0xFFFFFFFD, _END]  # the FAT's own sector, the directory's one-sector chain
    starts = []
    for body in bodies:
        count = -(-len(body) // sector)
        starts.append(len(fat))
        fat += [len(fat) + i + 1 for i in range(count - 1)] + [_END]
    assert len(fat) <= sector // 4, "one FAT sector is enough for this corpus"
    entries = [_directory_entry("Root Entry", 5, child=1, start=_END, size=0)]
    for number, (name, body, start) in enumerate(zip(streams, bodies, starts, strict=True), 1):
        right = number + 1 if number < len(streams) else _NONE
        entries.append(_directory_entry(name, 2, right=right, start=start, size=len(body)))
    while len(entries) % 4:
        entries.append(_directory_entry("", 0, start=0, size=0))
    header = _pack(
        [
            ("8s", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
            ("16s", b""),  # class id
            ("H", 0x3E),  # minor version
            ("H", 3),  # major version 3: 512-byte sectors
            ("H", 0xFFFE),  # little-endian
            ("H", 9),  # sector size 2**9
            ("H", 6),  # mini sector size 2**6
            ("6s", b""),
            ("I", 0),  # directory sectors: always 0 in version 3
            ("I", 1),  # FAT sectors
            ("I", 1),  # first directory sector
            ("I", 0),  # transaction signature
            ("I", 4096),  # mini stream cutoff
            ("I", _END),  # first mini FAT sector: none
            ("I", 0),  # mini FAT sectors
            ("I", _END),  # first DIFAT sector: none
            ("I", 0),  # DIFAT sectors
            ("I", 0),  # the FAT is in sector 0
            (f"{108 * 4}s", b"\xff" * 108 * 4),  # the other 108 header DIFAT slots: free
        ]
    )
    fat_sector = struct.pack(f"<{len(fat)}I", *fat).ljust(sector, b"\xff")
    data = b"".join(body.ljust(-(-len(body) // sector) * sector, b"\0") for body in bodies)
    return header + fat_sector + b"".join(entries) + data


def _directory_entry(
    name: str, kind: int, *, child: int = _NONE, right: int = _NONE, start: int, size: int
) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return _pack(
        [
            ("64s", encoded),
            ("H", len(encoded)),
            ("B", kind),  # 5 root, 2 stream, 0 unused
            ("B", 1),  # black
            ("I", _NONE),  # left sibling
            ("I", right),  # right sibling
            ("I", child),
            ("16s", b""),  # class id
            ("I", 0),  # state bits
            ("Q", 0),  # created
            ("Q", 0),  # modified
            ("I", start),
            ("Q", size),
        ]
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png() -> bytes:
    """A 4×4 grey screenshot, as real a PNG as any."""
    pixels = b"".join(b"\0" + b"\x80" * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(pixels, 9))
        + _png_chunk(b"IEND", b"")
    )


def pseudo_random(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def sheet_xml(body: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + body + b"</sheetData></worksheet>"
    )


def zip_bomb(unpacked_mib: int) -> bytes:
    """A genuine workbook whose sheet inflates to ``unpacked_mib`` MiB of blanks."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members_of(xlsx([HEADER])):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(info, data)
                continue
            head, tail = sheet_xml(b"\0").split(b"\0")
            with archive.open(info, "w") as member:
                member.write(head)
                blanks = b" " * MiB
                for _ in range(unpacked_mib):
                    member.write(blanks)
                member.write(tail)
    return out.getvalue()


def declare_size(data: bytes, member: str, size: int) -> bytes:
    """Make ``member`` claim ``size`` bytes unpacked, in its local and central headers."""
    patched = bytearray(data)
    encoded = member.encode()
    end = data.rindex(b"PK\x05\x06")
    (offset,) = struct.unpack_from("<I", data, end + 16)
    while data[offset : offset + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, offset + 28)
        name = data[offset + 46 : offset + 46 + name_length]
        if name == encoded:
            struct.pack_into("<I", patched, offset + 24, size)
            (local,) = struct.unpack_from("<I", data, offset + 42)
            struct.pack_into("<I", patched, local + 22, size)
        offset += 46 + name_length + extra_length + comment_length
    return bytes(patched)


def corrupt_member(data: bytes, member: str) -> bytes:
    """Flip bits in the middle of one member's compressed bytes, as a bad disk sector does."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length + info.compress_size // 3
    damaged = bytearray(data)
    for position in range(start, start + 24):
        damaged[position] ^= 0x5A
    return bytes(damaged)
