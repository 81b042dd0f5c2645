"""Start-up assertion and content sniffing (安全检查)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from jixiao.ingest.errors import FileRejected
from jixiao.ingest.security import OLE2_MAGIC, assert_defusedxml, check_file, sniff


def test_defusedxml_is_active_for_openpyxl():
    assert openpyxl.DEFUSEDXML is True
    assert_defusedxml()


def test_startup_fails_loudly_without_defusedxml(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(RuntimeError, match="defusedxml"):
        assert_defusedxml()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.7 ...", "not_xlsx"),
        (b"", "empty_file"),
        ("项目编码,金额\nP1,10\n".encode("gb18030"), "csv_file"),
        ("项目编码,金额\nP1,10\n".encode(), "csv_file"),
        ("\ufeff项目编码\t金额\n".encode("utf-16"), "csv_file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not_xlsx"),
        (OLE2_MAGIC + b"\x00" * 600 + "EncryptionInfo".encode("utf-16-le"), "encrypted"),
    ],
)
def test_sniff_by_content_not_extension(tmp_path: Path, content: bytes, reason: str):
    path = tmp_path / "looks-fine.xlsx"
    path.write_bytes(content)
    with pytest.raises(FileRejected) as err:
        sniff(path)
    assert err.value.reason_code == reason
    assert err.value.rejection.message_zh and err.value.rejection.message_en


def test_zip_named_xls_is_accepted_by_content(tmp_path: Path):
    path = tmp_path / "really-an-xlsx.xls"
    openpyxl.Workbook().save(path)
    assert sniff(path) == "zip"


def test_a_garbage_compound_file_is_unreadable_with_a_fix(tmp_path: Path) -> None:
    # sniffed as OLE2 (a legacy .xls is accepted), then its directory cannot be read
    path = tmp_path / "looks-fine.xls"
    path.write_bytes(OLE2_MAGIC + b"\x00" * 600 + "Workbook".encode("utf-16-le"))
    assert sniff(path) == "ole2"
    with pytest.raises(FileRejected) as err:
        check_file(path)
    assert err.value.reason_code == "unreadable"
    assert "另存为 .xlsx" in err.value.rejection.message_zh
