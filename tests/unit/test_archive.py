"""The one archive reader: every refusal comes before a byte is written."""

from __future__ import annotations

import stat
import zipfile

import pytest

from evaluation.bundle import BundleError, extract_bundle
from evaluation.listening.design import DesignError
from evaluation.listening.manifest import extract_zip


def _zip(path, members: dict, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _nothing_written(folder) -> bool:
    return not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


def test_a_zip_bomb_is_refused_by_its_ratio_before_writing(tmp_path):
    bomb = _zip(tmp_path / "bomb.zip", {"a.wav": b"RIFF", "silence.wav": bytes(80 * 2**20)})
    assert bomb.stat().st_size < 2**20  # 80 MiB of zeros packs into well under 1 MiB
    with pytest.raises(BundleError, match="times its packed size"):
        extract_bundle(bomb, tmp_path / "out")
    assert _nothing_written(tmp_path / "out")


def test_the_same_limits_hold_for_a_listening_zip(tmp_path):
    bomb = _zip(
        tmp_path / "stimuli.zip",
        {"manifest.csv": "path\nsilence.wav\n", "silence.wav": bytes(80 * 2**20)},
    )
    with pytest.raises(DesignError, match="zip bomb"):
        extract_zip(bomb, tmp_path / "out")
    assert _nothing_written(tmp_path / "out")
    big = _zip(tmp_path / "big.zip", {"manifest.csv": "path\n", "x.wav": b"x" * 4096})
    with pytest.raises(BundleError, match="unpacks to"):
        extract_bundle(big, tmp_path / "out2", max_bytes=1024)


def test_size_count_path_and_link_refusals(tmp_path):
    many = _zip(tmp_path / "many.zip", {f"{i}.wav": b"x" for i in range(5)})
    with pytest.raises(BundleError, match="5 files; the limit is 4"):
        extract_bundle(many, tmp_path / "a", max_files=4)
    # A safe member before an unsafe one is not written either.
    evil = _zip(tmp_path / "evil.zip", {"ok.wav": b"x", "../escape.wav": b"x"})
    with pytest.raises(BundleError, match="unsafe path"):
        extract_bundle(evil, tmp_path / "b")
    assert _nothing_written(tmp_path / "b") and not (tmp_path / "escape.wav").exists()
    drive = _zip(tmp_path / "drive.zip", {"C:/x.wav": b"x"})
    with pytest.raises(BundleError, match="unsafe path"):
        extract_bundle(drive, tmp_path / "c")
    linked = tmp_path / "link.zip"
    with zipfile.ZipFile(linked, "w") as zf:
        info = zipfile.ZipInfo("link.wav")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(BundleError, match="links are not allowed"):
        extract_bundle(linked, tmp_path / "d")
    with pytest.raises(BundleError, match="not a readable zip"):
        extract_bundle(_zip_bytes(tmp_path / "broken.zip"), tmp_path / "e")


def _zip_bytes(path):
    path.write_bytes(b"PK\x03\x04 not really a zip")
    return path


def test_a_good_archive_unpacks_whole(tmp_path):
    good = _zip(tmp_path / "good.zip", {"clips/a.wav": b"a" * 100, "manifest.csv": "path\n"})
    out = extract_bundle(good, tmp_path / "out")
    assert (out / "clips" / "a.wav").read_bytes() == b"a" * 100
    manifest = extract_zip(good, tmp_path / "out2")
    assert manifest == tmp_path / "out2" / "manifest.csv"
