"""Spreadsheet and CSV ledgers (台账) → a :class:`RawTable` of header names and data rows.

What a county ledger looks like, and what is done about it:

* **title rows** above the header ("合江县应急物资储备台账（2024年）", a date line): the header is
  the row (or pair of rows) among the first :data:`HEADER_SCAN` whose cells match the most
  known column words (:func:`gis.imports.mapping.header_score`); rows above it are skipped;
* **merged header cells** ("坐标" over "经度 | 纬度", "库存" over "数量 | 单位"): every merged range
  is filled with its top-left value, and a two-row header joins the two levels ("坐标经度");
* **merged data cells** (one stockpile name spanning its inventory lines) are filled down;
* **合计 / 小计 / 总计 rows** and empty rows are skipped (counted in ``skipped``);
* **encodings** of CSV: UTF-8 (with or without BOM), GB18030 (a superset of GBK/GB2312), else
  what charset_normalizer detects; the delimiter is sniffed (``,`` ``;`` tab ``|``).

XLSX is read with openpyxl, XLS with xlrd (2.x reads only .xls), CSV with the standard library.
Row numbers are the sheet's own (1-based), as the user sees them in Excel.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.errors import DataImportError
from gis.imports.values import is_blank, text_value

#: How many rows from the top may hold titles and the header.
HEADER_SCAN = 15
#: Largest file read (a county ledger is kilobytes; this bounds memory on a wrong file).
MAX_BYTES = 200 * 1024 * 1024
#: Words of a summary row (the whole cell, spaces removed).
TOTAL_WORDS = frozenset({"合计", "小计", "总计", "共计", "总数", "合计数", "total", "sum"})

Grid = list[list[Any]]


@dataclass(frozen=True)
class RawTable:
    """Header names and data rows of one sheet or layer.

    ``rows`` are ``(row number in the file, values by header position)``; ``geometries`` (vector
    files) one shapely geometry or ``None`` per row; ``crs`` the file's CRS (pyproj-readable) or
    ``None``; ``skipped`` the row numbers of 合计 / empty rows; ``encoding`` what text was read as.
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Any, ...]], ...]
    sheet: str = ""
    geometries: tuple[Any, ...] | None = None
    crs: Any = None
    skipped: tuple[int, ...] = ()
    encoding: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _is_total_row(values: Sequence[Any]) -> bool:
    return any(isinstance(v, str) and re.sub(r"\s+", "", v).lower() in TOTAL_WORDS for v in values)


def _fill_merged(grid: Grid, ranges: Sequence[tuple[int, int, int, int]]) -> None:
    """Fill each merged range (row0, row1, col0, col1; 0-based, exclusive ends) with its
    top-left value."""
    for r0, r1, c0, c1 in ranges:
        if r0 >= len(grid):
            continue
        value = grid[r0][c0] if c0 < len(grid[r0]) else None
        for r in range(r0, min(r1, len(grid))):
            row = grid[r]
            if len(row) < c1:
                row.extend([None] * (c1 - len(row)))
            for c in range(c0, c1):
                row[c] = value


def _header_text(value: Any) -> str:
    return re.sub(r"\s+", "", text_value(value)) if not is_blank(value) else ""


def locate_header(
    grid: Grid, score: Callable[[Sequence[str]], float], where: str
) -> tuple[tuple[str, ...], int]:
    """The header names and the index of the first data row.

    Tries each of the first :data:`HEADER_SCAN` rows alone and joined with the row below (a
    two-level merged header); the best ``score`` wins (ties: the earlier, single row)."""
    best: tuple[float, int, int] | None = None  # (score, start, depth)
    for r in range(min(HEADER_SCAN, len(grid))):
        one = [_header_text(v) for v in grid[r]]
        if sum(1 for h in one if h) < 2 and len(grid[r]) > 1:
            continue
        s1 = score(one)
        if best is None or s1 > best[0]:
            best = (s1, r, 1)
        if r + 1 < len(grid):
            two = _join_levels(one, [_header_text(v) for v in grid[r + 1]])
            s2 = score(two)
            if s2 > (best[0] if best else 0) + 0.5:
                best = (s2, r, 2)
    if best is None or best[0] <= 0:
        raise DataImportError(
            f"{where}: no header row found in the first {HEADER_SCAN} rows "
            "(expected column names such as 名称, 经度, 纬度, 数量)"
        )
    _, r, depth = best
    names = [_header_text(v) for v in grid[r]]
    if depth == 2:
        names = _join_levels(names, [_header_text(v) for v in grid[r + 1]])
    return tuple(names), r + depth


def _join_levels(top: Sequence[str], below: Sequence[str]) -> list[str]:
    width = max(len(top), len(below))
    out = []
    for i in range(width):
        a = top[i] if i < len(top) else ""
        b = below[i] if i < len(below) else ""
        out.append(a if not b or a == b else (b if not a else a + b))
    return out


def grid_to_table(
    grid: Grid,
    score: Callable[[Sequence[str]], float],
    *,
    where: str,
    sheet: str = "",
    first_row: int = 1,
    encoding: str = "",
) -> RawTable:
    """Header detection, 合计 and empty rows skipped, rows cut or padded to the header width."""
    headers, start = locate_header(grid, score, where)
    width = len(headers)
    rows: list[tuple[int, tuple[Any, ...]]] = []
    skipped: list[int] = []
    for r in range(start, len(grid)):
        values = list(grid[r][:width]) + [None] * max(0, width - len(grid[r]))
        number = r + first_row
        if all(is_blank(v) for v in values) or _is_total_row(values):
            skipped.append(number)
            continue
        rows.append((number, tuple(values)))
    return RawTable(
        headers=headers, rows=tuple(rows), sheet=sheet, skipped=tuple(skipped), encoding=encoding
    )


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise DataImportError(f"{path}: {size:,} bytes is more than a ledger ({MAX_BYTES:,} bytes)")
    if size == 0:
        raise DataImportError(f"{path}: the file is empty")


def _pick_sheet(names: Sequence[str], sheet: str | None, path: Path) -> list[str]:
    if sheet is None:
        return list(names)
    if sheet not in names:
        raise DataImportError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(names)})")
    return [sheet]


def _best_sheet(
    grids: Sequence[tuple[str, Grid]], score: Callable[[Sequence[str]], float], path: Path
) -> RawTable:
    """The sheet whose header scores best (the first on a tie)."""
    best: tuple[float, RawTable] | None = None
    errors = []
    for name, grid in grids:
        try:
            table = grid_to_table(grid, score, where=f"{path}, sheet {name!r}", sheet=name)
        except DataImportError as exc:
            errors.append(str(exc))
            continue
        s = score(table.headers)
        if best is None or s > best[0]:
            best = (s, table)
    if best is None:
        raise DataImportError(
            errors[0] if len(errors) == 1 else f"{path}: no sheet has a header row"
        )
    return best[1]


def read_xlsx(path: Path, score: Callable[[Sequence[str]], float], sheet: str | None) -> RawTable:
    import openpyxl

    _check_size(path)
    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, EOFError) as exc:
        raise DataImportError(f"{path}: not a readable XLSX workbook ({_short(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - openpyxl/lxml raise many types on a corrupt file
        raise DataImportError(
            f"{path}: not a readable XLSX workbook ({type(exc).__name__})"
        ) from None
    grids = []
    try:
        for name in _pick_sheet(wb.sheetnames, sheet, path):
            ws = wb[name]
            if not hasattr(ws, "merged_cells"):
                continue  # a chart sheet
            grid: Grid = [list(r) for r in ws.iter_rows(values_only=True)]
            ranges = [
                (m.min_row - 1, m.max_row, m.min_col - 1, m.max_col) for m in ws.merged_cells.ranges
            ]
            _fill_merged(grid, ranges)
            grids.append((name, grid))
    finally:
        wb.close()
    return _best_sheet(grids, score, path)


def read_xls(path: Path, score: Callable[[Sequence[str]], float], sheet: str | None) -> RawTable:
    import xlrd

    _check_size(path)
    try:
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
    except Exception as exc:  # noqa: BLE001 - xlrd raises XLRDError, struct.error, IndexError …
        raise DataImportError(f"{path}: not a readable XLS workbook ({_short(exc)})") from None
    grids = []
    try:
        for name in _pick_sheet(book.sheet_names(), sheet, path):
            try:
                sh = book.sheet_by_name(name)
                grid: Grid = []
                for r in range(sh.nrows):
                    row = []
                    for c in range(sh.ncols):
                        cell = sh.cell(r, c)
                        if cell.ctype == xlrd.XL_CELL_DATE:
                            row.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                        elif (
                            cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)
                            or cell.ctype == xlrd.XL_CELL_ERROR
                        ):
                            row.append(None)
                        else:
                            row.append(cell.value)
                    grid.append(row)
                _fill_merged(grid, [tuple(m) for m in sh.merged_cells])
            except Exception as exc:  # noqa: BLE001 - corrupt sheet records
                raise DataImportError(
                    f"{path}, sheet {name!r}: cannot be read ({_short(exc)})"
                ) from None
            grids.append((name, grid))
    finally:
        book.release_resources()
    return _best_sheet(grids, score, path)


def decode_text(data: bytes, where: str) -> tuple[str, str]:
    """Text and the encoding it was read as: UTF-8 (BOM or not), GB18030, else detected."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is None or best.encoding is None:
        raise DataImportError(f"{where}: text encoding not recognised (tried UTF-8, GB18030)")
    try:
        return data.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError):
        raise DataImportError(
            f"{where}: text encoding not recognised (tried UTF-8, GB18030, {best.encoding})"
        ) from None


def read_csv(path: Path, score: Callable[[Sequence[str]], float]) -> RawTable:
    _check_size(path)
    data = path.read_bytes()
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataImportError(f"{path}: binary data, not a CSV text file")
    text, encoding = decode_text(data, str(path))
    text = text.replace("\x00", "")
    sample = text[:20_000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        grid: Grid = [list(r) for r in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as exc:
        raise DataImportError(f"{path}: not a readable CSV file ({_short(exc)})") from None
    return grid_to_table(grid, score, where=str(path), encoding=encoding)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


__all__ = ["RawTable", "decode_text", "grid_to_table", "read_csv", "read_xls", "read_xlsx"]
