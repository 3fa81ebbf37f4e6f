"""Frames on the wire: one binary WebSocket message per frame, a small JSON header followed by its arrays' bytes.

Layout: a little-endian uint32 ``n``, ``n`` bytes of UTF-8 JSON, then the arrays. In the JSON, each NumPy array of
the frame (uint8 heatmaps) is replaced by ``{"$array": [offset, length, shape], "dtype": "uint8"}``, its bytes at
``offset`` after the header (4-byte aligned), so the page views them as typed arrays without parsing. Also: merging
two frames when the newer replaces one not yet sent (latest wins), keeping the loss curve's rows of both.
"""

from __future__ import annotations

import json
import struct

import numpy as np

ALIGN = 4  # every array and the payload start on a multiple of 4 bytes (a Float32Array view needs it)
DTYPES = ("uint8", "float32")


def encode(message: dict) -> bytes:
    """``message`` (JSON-able, with NumPy arrays of ``DTYPES`` anywhere inside) as one binary frame."""
    chunks: list[bytes] = []
    size = 0

    def take(value):
        nonlocal size
        if isinstance(value, np.ndarray):
            if value.dtype.name not in DTYPES:
                raise TypeError(f"A frame carries arrays of {', '.join(DTYPES)}; received {value.dtype.name}")
            data = np.ascontiguousarray(value).tobytes()
            ref = {"$array": [size, value.size, list(value.shape)], "dtype": value.dtype.name}
            padded = data + b"\0" * (-len(data) % ALIGN)
            chunks.append(padded)
            size += len(padded)
            return ref
        if isinstance(value, dict):
            return {key: take(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [take(item) for item in value]
        return value

    header = json.dumps(take(message), allow_nan=False, separators=(",", ":")).encode()
    header += b" " * (-(4 + len(header)) % ALIGN)
    return b"".join([struct.pack("<I", len(header)), header, *chunks])


def decode(data: bytes) -> dict:
    """The message :func:`encode` wrote, with its arrays as NumPy arrays (for tests and benchmarks)."""
    (length,) = struct.unpack_from("<I", data)
    start = 4 + length

    def give(value):
        if isinstance(value, dict) and "$array" in value:
            offset, count, shape = value["$array"]
            dtype = np.dtype(value["dtype"])
            return np.frombuffer(data, dtype, count, start + offset).reshape(shape)
        if isinstance(value, dict):
            return {key: give(item) for key, item in value.items()}
        if isinstance(value, list):
            return [give(item) for item in value]
        return value

    return give(json.loads(data[4:start]))


def merge_frames(older: dict, newer: dict) -> dict:
    """``newer`` in place of ``older`` (not sent yet), carrying ``older``'s loss-curve rows that ``newer`` lacks:
    each frame sends only the rows after ``history_from``. ``older``'s row list is extended in place (it is the
    unsent frame's own copy), so a long stall costs each merge only its new rows."""
    if newer["history_from"] <= older["history_from"]:
        return newer
    rows = older["history"]
    del rows[newer["history_from"] - older["history_from"]:]
    rows.extend(newer["history"])
    return {**newer, "history_from": older["history_from"], "history": rows}
