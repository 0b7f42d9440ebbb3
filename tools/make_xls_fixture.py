"""Write ``tests/data/储备库台账_biff8.xls``: a genuine Excel 97-2003 (BIFF8) 台账 for the tests.

No installed library writes ``.xls`` (``xlwt`` may not be added, LibreOffice is not installed;
``xlrd`` and ``openpyxl`` only read it or write XLSX), so this script writes the two layers by
hand, from the public format descriptions ([MS-CFB] compound file, [MS-XLS] BIFF8 records):

- an OLE2 compound file (512-byte sectors: header, one FAT sector, the ``Workbook`` stream padded
  to the 4,096-byte mini-stream cut-off so it lives in ordinary sectors, one directory sector);
- a BIFF8 workbook: globals (BOF, CODEPAGE 1200, WINDOW1, FONT, 16 style XFs and one cell XF,
  BOUNDSHEET per sheet, EOF) and per sheet BOF, DIMENSIONS, LABEL (UTF-16) and NUMBER cells,
  MERGEDCELLS, EOF.

The ledger is the one ``tests/test_import.py::_ledger`` writes as XLSX: a title row merged over
the columns, a two-level header (坐标 merged over 经度/纬度, the other headers merged over two
rows), four of the demo county's stockpiles renamed "…（XLS）" and a 合计 row; plus a second
sheet 说明. Run once from the source tree (``python tools/make_xls_fixture.py``); the file is
committed. Hand-written because no maintained Python library writes BIFF8.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "储备库台账_biff8.xls"

Cell = str | float | int | None


def _rec(rtype: int, data: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


def _ustr16(text: str) -> bytes:
    """A BIFF8 unicode string with a 2-byte length, stored as UTF-16LE."""
    return struct.pack("<HB", len(text), 1) + text.encode("utf-16-le")


def _ustr8(text: str) -> bytes:
    """A BIFF8 short unicode string (1-byte length), UTF-16LE."""
    return struct.pack("<BB", len(text), 1) + text.encode("utf-16-le")


def _bof(kind: int) -> bytes:
    return _rec(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))


def _xf(font: int, style: bool) -> bytes:
    """A 20-byte XF: font, format 0, locked (a style XF: fStyle, parent 0xFFF), bottom-aligned,
    no borders, the default pattern colours."""
    flags = 0xFFF5 if style else 0x0001
    used = 0xF4 if style else 0x00
    return _rec(0x00E0, struct.pack("<HHHBBBBIIH", font, 0, flags, 0x20, 0, 0, used, 0, 0, 0x20C0))


def _sheet(rows: list[list[Cell]], merges: list[tuple[int, int, int, int]]) -> bytes:
    ncols = max(len(r) for r in rows)
    out = [_bof(0x0010), _rec(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, ncols, 0))]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                out.append(_rec(0x0204, struct.pack("<HHH", r, c, 16) + _ustr16(value)))
            else:
                out.append(_rec(0x0203, struct.pack("<HHHd", r, c, 16, float(value))))
    if merges:
        body = struct.pack("<H", len(merges)) + b"".join(
            struct.pack("<HHHH", r0, r1, c0, c1) for r0, r1, c0, c1 in merges
        )
        out.append(_rec(0x00E5, body))
    out.append(_rec(0x000A, b""))
    return b"".join(out)


def workbook_stream(
    sheets: list[tuple[str, list[list[Cell]], list[tuple[int, int, int, int]]]],
) -> bytes:
    """The BIFF8 ``Workbook`` stream of ``sheets`` (name, rows, merged ranges r0, r1, c0, c1)."""
    font = _rec(
        0x0031, struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + _ustr8("Arial")
    )
    head = [_bof(0x0005), _rec(0x0042, struct.pack("<H", 1200))]
    head.append(_rec(0x003D, struct.pack("<HHHHHHHHH", 0, 0, 0x4000, 0x2000, 0x38, 0, 0, 1, 0x258)))
    head += [font] * 5  # Excel skips font index 4: five records keep the indices usual
    head += [_xf(0, style=True) for _ in range(16)] + [_xf(0, style=False)]
    bodies = [_sheet(rows, merges) for _name, rows, merges in sheets]
    bound_len = sum(4 + 6 + len(_ustr8(name)) for name, _r, _m in sheets)
    offset = sum(len(x) for x in head) + bound_len + 4  # + the globals' EOF
    bounds = []
    for (name, _rows, _merges), body in zip(sheets, bodies, strict=True):
        bounds.append(_rec(0x0085, struct.pack("<IBB", offset, 0, 0) + _ustr8(name)))
        offset += len(body)
    return b"".join(head) + b"".join(bounds) + _rec(0x000A, b"") + b"".join(bodies)


def compound_file(stream: bytes, name: str = "Workbook") -> bytes:
    """An OLE2 compound file (version 3, 512-byte sectors) holding one stream."""
    sector = 512
    stream = stream + b"\0" * max(0, 4096 - len(stream))  # at the cut-off: no mini stream
    n = -(-len(stream) // sector)
    if n + 2 > 128:
        raise ValueError("stream too large for one FAT sector")
    free, end, fat_sect = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    fat = [fat_sect] + [i + 1 for i in range(1, n)] + [end, end]  # stream chain, directory
    fat += [free] * (128 - len(fat))
    dir_sector = n + 1

    def entry(ename: str, etype: int, child: int, start: int, size: int) -> bytes:
        raw = ename.encode("utf-16-le") + b"\0\0" if ename else b""
        return struct.pack(
            "<64sHBBIII16sIQQIII",
            raw,
            len(raw),
            etype,
            1 if ename else 0,
            free,
            free,
            child,
            b"\0" * 16,
            0,
            0,
            0,
            start,
            size,
            0,
        )

    directory = (
        entry("Root Entry", 5, 1, end, 0)
        + entry(name, 2, free, 1, len(stream))
        + entry("", 0, free, 0, 0) * 2
    )
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\0" * 16,
        0x003E,
        0x0003,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        1,
        dir_sector,
        0,
        4096,
        end,
        0,
        end,
        0,
        0,  # DIFAT[0]: the FAT is sector 0
    ) + struct.pack("<108I", *([free] * 108))
    body = struct.pack("<128I", *fat) + stream.ljust(n * sector, b"\0") + directory
    return header + body


def ledger_rows() -> list[list[Cell]]:
    """The demo county's first four stockpiles as a county office's 台账."""
    sys.path.insert(0, str(ROOT))
    from gis.workspace import read_workspace

    scenario = read_workspace(ROOT / "data" / "hejiang_demo.gpkg", include_roads=False).scenario
    rows: list[list[Cell]] = [
        ["合江县应急物资储备库台账（2024年，Excel 97-2003）", None, None, None, None, None],
        ["序号", "储备库名称", "级别", "坐标", None, "联系电话"],
        [None, None, None, "经度", "纬度", None],
    ]
    for n, sp in enumerate(scenario.stockpiles[:4], start=1):
        rows.append(
            [
                n,
                sp.name + "（XLS）",
                f"{sp.level}储备库",
                sp.location.lon,
                sp.location.lat,
                "0830-1234567",
            ]  # fmt: skip
        )
    rows.append(["合 计", None, None, None, None, None])
    return rows


def main() -> int:
    merges = [(0, 0, 0, 5), (1, 1, 3, 4)] + [(1, 2, c, c) for c in (0, 1, 2, 5)]
    sheets = [("储备库", ledger_rows(), merges), ("说明", [["本表由县应急管理局填报"]], [])]
    data = compound_file(workbook_stream(sheets))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(data)
    print(f"{OUT} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
