import os
import shutil

import pytest
from tiny import sharpen

from creval import checkpoints
from creval.checkpoints import fingerprint, resolve_checkpoint
from creval.errors import CrevalError


def test_same_content_same_fingerprint_different_weights_differ(tiny_ckpt, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_ckpt, copy)
    assert fingerprint(copy) == fingerprint(tiny_ckpt)
    assert fingerprint(sharpen(tiny_ckpt, tmp_path / "s", 1.0001)) != fingerprint(tiny_ckpt)


def test_trainer_state_beside_the_weights_does_not_count(tiny_ckpt, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_ckpt, copy)
    (copy / "optimizer.pt").write_bytes(os.urandom(64))
    (copy / "trainer_state.json").write_text("{}")
    assert fingerprint(copy) == fingerprint(tiny_ckpt)


def test_digests_are_cached_by_path_size_and_mtime(tiny_ckpt, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_ckpt, copy)
    first = fingerprint(copy)
    reads = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda f, *a, **k: reads.append(str(f)) or real_open(f, *a, **k))
    assert fingerprint(copy) == first
    assert not [r for r in reads if r.startswith(str(copy))]  # nothing re-read
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # same size, new content, new mtime
    weights.write_bytes(bytes(data))
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    assert fingerprint(copy) != first


def test_resolve_errors_are_clear(tmp_path):
    with pytest.raises(CrevalError, match="checkpoint not found"):
        resolve_checkpoint(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CrevalError, match=r"no config\.json"):
        resolve_checkpoint(str(tmp_path / "empty"))
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(CrevalError, match="is a file"):
        resolve_checkpoint(str(tmp_path / "file.bin"))


def test_hub_id_offline_without_cache_names_the_model(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CrevalError, match=r"'someorg/not-a-real-model'.*could not be fetched"):
        checkpoints.resolve_checkpoint("someorg/not-a-real-model")
