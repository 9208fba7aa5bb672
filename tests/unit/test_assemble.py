"""The one builder of model files from split wheels: checked, atomic, stamped."""

from __future__ import annotations

import hashlib
import threading

import pytest

from voiceclone.errors import ModelError
from voiceclone.runtime.assemble import built_once, joined, read_stamp


def _parts(tmp_path, blobs):
    paths = []
    for i, blob in enumerate(blobs, 1):
        path = tmp_path / f"part{i}"
        path.write_bytes(blob)
        paths.append(path)
    return paths


def test_parts_are_joined_in_order_once_and_stamped(tmp_path):
    blobs = [b"abc" * 1000, b"def" * 1000]
    digest = hashlib.sha256(b"".join(blobs)).hexdigest()
    out = joined(_parts(tmp_path, blobs), tmp_path / "cache" / "model.bin", digest.upper(), "m")
    assert out.read_bytes() == b"".join(blobs)
    assert read_stamp(out) == digest
    before = out.stat().st_mtime_ns
    joined(_parts(tmp_path, blobs), out, digest, "m")
    assert out.stat().st_mtime_ns == before  # stamped: not built again


def test_a_wrong_or_missing_part_leaves_no_file(tmp_path):
    good = hashlib.sha256(b"right").hexdigest()
    with pytest.raises(ModelError, match="do not match their SHA-256"):
        joined(_parts(tmp_path, [b"wrong"]), tmp_path / "out" / "m.bin", good, "the model")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []
    with pytest.raises(ModelError, match="the model: part 2 of 2 is not installed"):
        joined(
            [tmp_path / "part1", tmp_path / "nope"], tmp_path / "out" / "m.bin", good, "the model"
        )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []


def test_a_changed_source_rebuilds_and_concurrent_builds_end_whole(tmp_path):
    out = tmp_path / "state.pt"
    built_once(out, "one", lambda tmp: tmp.write_bytes(b"1" * 10_000))
    built_once(out, "two", lambda tmp: tmp.write_bytes(b"2" * 10_000))
    assert out.read_bytes() == b"2" * 10_000 and read_stamp(out) == "two"
    with open(out, "r+b") as f:  # a damaged copy is noticed by its size and built again
        f.truncate(10)
    built_once(out, "two", lambda tmp: tmp.write_bytes(b"2" * 10_000))
    assert out.read_bytes() == b"2" * 10_000
    errors = []

    def build(i):
        try:
            built_once(out, "three", lambda tmp: tmp.write_bytes(b"3" * 1_000_000))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and out.read_bytes() == b"3" * 1_000_000
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
