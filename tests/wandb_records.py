"""Reading an offline W&B run back from its ``.wandb`` file (wandb has no Python reader for it since the
Go core replaced the Python one). The format is a LevelDB-style log: a 7-byte file header (``:W&B``,
magic 0xBEE1 little-endian, version 0), then 32 KiB blocks of chunks, each with a 7-byte header (CRC-32
of the type byte and payload, payload length, type: 1 full, 2 first, 3 middle, 4 last); a block's tail
shorter than a header is zero padding. The payloads are ``wandb_internal_pb2.Record`` messages. Every
CRC is checked, so a misread fails loudly instead of returning wrong records."""
from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEADER = b":W&B" + struct.pack("<HB", 0xBEE1, 0)
BLOCK = 32 * 1024
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def payloads(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data[:len(HEADER)] == HEADER, f"{path}: not a .wandb file"
    pos, pending, out = len(HEADER), b"", []
    while pos < len(data):
        room = BLOCK - pos % BLOCK
        if room < 7:  # padding at a block's end
            pos += room
            continue
        crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        payload = data[pos + 7:pos + 7 + length]
        assert kind in (FULL, FIRST, MIDDLE, LAST) and len(payload) == length, f"{path}: damaged at byte {pos}"
        assert zlib.crc32(payload, zlib.crc32(bytes([kind]))) == crc, f"{path}: CRC mismatch at byte {pos}"
        pos += 7 + length
        if kind == FULL:
            out.append(payload)
        elif kind == FIRST:
            pending = payload
        elif kind == MIDDLE:
            pending += payload
        else:
            out.append(pending + payload)
    return out


@dataclass
class OfflineRun:
    name: str = ""
    group: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)  # one dict per logged step, with _step


def read_run(run_dir: Path) -> OfflineRun:
    from wandb.proto import wandb_internal_pb2

    (path,) = run_dir.glob("run-*.wandb")
    run = OfflineRun()
    for payload in payloads(path):
        record = wandb_internal_pb2.Record.FromString(payload)
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run.name, run.group = record.run.display_name, record.run.run_group
            run.config.update({i.key: json.loads(i.value_json) for i in record.run.config.update})
        elif kind == "config":
            run.config.update({i.key: json.loads(i.value_json) for i in record.config.update})
        elif kind == "history":
            run.history.append({i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in record.history.item})
    return run
