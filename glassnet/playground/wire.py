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
    payload = _Payload()
    header = json.dumps(payload.take(message), allow_nan=False, separators=(",", ":")).encode()
    header += b" " * (-(4 + len(header)) % ALIGN)
    return b"".join([struct.pack("<I", len(header)), header, *payload.chunks])


class _Payload:
    """The arrays of one frame, laid out one after the other (a class, not a recursive closure: a closure calling
    itself is a reference cycle that would keep every frame's bytes until the garbage collector runs)."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.size = 0

    def take(self, value):
        """``value`` with each array replaced by a reference to its bytes, appended to the payload."""
        if isinstance(value, np.ndarray):
            if value.dtype.name not in DTYPES:
                raise TypeError(f"A frame carries arrays of {', '.join(DTYPES)}; received {value.dtype.name}")
            data = np.ascontiguousarray(value).tobytes()
            ref = {"$array": [self.size, value.size, list(value.shape)], "dtype": value.dtype.name}
            padded = data + b"\0" * (-len(data) % ALIGN)
            self.chunks.append(padded)
            self.size += len(padded)
            return ref
        if isinstance(value, dict):
            return {key: self.take(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.take(item) for item in value]
        return value


def decode(data: bytes) -> dict:
    """The message :func:`encode` wrote, with its arrays as NumPy arrays (for tests and benchmarks)."""
    (length,) = struct.unpack_from("<I", data)
    return _arrays_in(json.loads(data[4:4 + length]), data, 4 + length)


def _arrays_in(value, data: bytes, start: int):
    """``value`` with each array reference replaced by the array it names in ``data``'s payload at ``start``."""
    if isinstance(value, dict) and "$array" in value:
        offset, count, shape = value["$array"]
        return np.frombuffer(data, np.dtype(value["dtype"]), count, start + offset).reshape(shape)
    if isinstance(value, dict):
        return {key: _arrays_in(item, data, start) for key, item in value.items()}
    if isinstance(value, list):
        return [_arrays_in(item, data, start) for item in value]
    return value


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
