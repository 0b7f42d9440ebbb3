"""The one atomic writer of the commands' JSON/text outputs (coverage, plan-sites, plan-stock,
relax, drill): a reader sees the old file or the whole new one, and a failure leaves the old file
and no temporary file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gis.workspace.atomic import write_json_atomically, write_text_atomically


def test_json_is_written_whole_and_replaces_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "x.json"  # the folder is created
    write_json_atomically(target, {"名称": "合江", "n": 1})
    write_json_atomically(target, {"名称": "合江县", "n": 2}, indent=1)
    assert json.loads(target.read_text(encoding="utf-8")) == {"名称": "合江县", "n": 2}
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    write_text_atomically(target, "old")
    with pytest.raises(ValueError):
        write_json_atomically(target, {"bad": float("nan")})  # not JSON: refused before writing
    with pytest.raises(TypeError):
        write_text_atomically(target, None)  # type: ignore[arg-type]
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
