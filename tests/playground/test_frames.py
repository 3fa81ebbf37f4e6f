"""Frames on the wire (issue 19 item 1): binary messages that decode to what the session made, heatmaps at
playground.tensorflow.org's sizes computed for every unit at once, and a page that does not read never stalls
training nor piles frames up on the server (a newer frame replaces one not yet sent, its loss rows carried over)."""

import asyncio
import json
import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra (starlette) is not installed")

from glassnet.autodiff import Tensor, no_grad  # noqa: E402
from glassnet.playground import server, wire  # noqa: E402
from glassnet.playground.session import GRID, Session  # noqa: E402
from tests.cycles import cycles_made_by  # noqa: E402
from tests.playground.probes import decode, running_server  # noqa: E402

BIG = {"dataset": "spiral", "layers": [8] * 6,
       "features": ["x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2"]}


def test_a_frame_survives_the_wire_and_its_arrays_are_bytes_after_a_small_header():
    frame = Session(BIG).frame()
    data = wire.encode(frame)
    back = wire.decode(data)
    assert back["output"]["grid"].dtype == np.uint8 and back["output"]["grid"].shape == (100 * 100,)
    assert np.array_equal(back["output"]["grid"], frame["output"]["grid"])
    for sent, got in zip(frame["heatmaps"]["layers"], back["heatmaps"]["layers"]):
        assert got.shape == (8, 10 * 10) and np.array_equal(sent, got)
    assert back["weights"] == frame["weights"] and back["epoch"] == frame["epoch"]
    header = int.from_bytes(data[:4], "little")
    assert header % 4 == 0 and header < 12_000  # the weights and metrics; every heatmap pixel is one byte after it
    assert len(data) - 4 - header == 100 * 100 + (7 + 6 * 8) * 10 * 10
    with pytest.raises(TypeError, match="received float64"):
        wire.encode({"type": "frame", "x": np.zeros(3)})


def test_encoding_a_frame_leaves_no_reference_cycle_holding_its_bytes():
    frame = Session(BIG).frame()
    assert cycles_made_by(lambda: wire.decode(wire.encode(frame))) == []


def test_every_units_thumbnail_is_its_10x10_block_mean_from_one_pass():
    s = Session({"layers": [3], "activation": "relu"})
    frame = s.frame()
    assert frame["heatmaps"]["size"] == 10 and frame["output"]["size"] == GRID == 100
    hidden = s.dense_layers[0]
    with no_grad():  # one unit at a time, the slow way
        values = hidden(Tensor(s.f_grid)).numpy()
    for unit in range(3):
        blocks = values[:, unit].reshape(10, 10, 10, 10).mean(axis=(1, 3))
        expected = np.rint((np.clip(blocks, -1, 1) + 1) * 127.5).ravel()
        assert np.abs(frame["heatmaps"]["layers"][0][unit].astype(int) - expected).max() <= 1
    features = frame["heatmaps"]["features"]  # X₁ rises to the right: its thumbnail's left column is orange
    assert features.shape == (7, 100) and features[0].reshape(10, 10)[:, 0].max() < 40


def test_merging_an_unsent_frame_keeps_the_loss_rows_of_both():
    older = {"type": "frame", "epoch": 3, "history_from": 2, "history": [[2, 0.5, 0.6], [3, 0.4, 0.5]]}
    newer = {"type": "frame", "epoch": 5, "history_from": 4, "history": [[4, 0.3, 0.4], [5, 0.2, 0.3]]}
    merged = wire.merge_frames(older, newer)
    assert merged["epoch"] == 5 and merged["history_from"] == 2
    assert [row[0] for row in merged["history"]] == [2, 3, 4, 5]
    rebuilt = {"type": "frame", "epoch": 0, "history_from": 0, "history": [[0, 0.7, 0.7]]}  # after a Reset
    assert wire.merge_frames(older, rebuilt) is rebuilt


def test_the_outbox_keeps_answers_in_order_and_only_the_latest_frame():
    async def scenario():
        outbox = server.Outbox()
        frame = lambda epoch: {"type": "frame", "epoch": epoch, "history_from": epoch,  # noqa: E731
                               "history": [[epoch, 0.1, 0.1]]}
        outbox.put([frame(0), frame(1), {"type": "state"}, frame(2), frame(3), frame(4)])
        return [await outbox.get() for _ in range(3)], len(outbox.items)

    sent, left = asyncio.run(scenario())
    assert [(m["type"], m.get("epoch")) for m in sent] == [("frame", 1), ("state", None), ("frame", 4)]
    assert [row[0] for row in sent[0]["history"]] == [0, 1] and [r[0] for r in sent[2]["history"]] == [2, 3, 4]
    assert left == 0


def test_a_page_that_stops_reading_neither_stalls_training_nor_loses_loss_rows():
    """The page plays, then reads nothing for 3 s: training goes on at its pace, the connection stays, and the
    loss curve it reads afterwards has no gap (frames the server replaced carried their rows on)."""
    websockets = pytest.importorskip("websockets")

    async def lagging_page(port):
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
            history = []

            async def next_frame():
                while True:
                    message = decode(await asyncio.wait_for(ws.recv(), 10))
                    if message["type"] == "frame":
                        del history[message["history_from"]:]
                        history.extend(message["history"])
                        return message

            await next_frame()
            await ws.send(json.dumps({"type": "play"}))
            first = await next_frame()
            while not first["playing"]:
                first = await next_frame()
            await asyncio.sleep(3)  # reads nothing
            start, latest = time.perf_counter(), first
            while time.perf_counter() - start < 1.5:  # catch up
                latest = await next_frame()
            await ws.send(json.dumps({"type": "pause"}))
            while latest["playing"]:
                latest = await next_frame()
            return first["epoch"], latest["epoch"], [row[0] for row in history]

    with running_server() as port:
        first, last, epochs = asyncio.run(lagging_page(port))
    assert last - first >= 20  # it trained on while the page read nothing
    assert epochs == list(range(last + 1))  # every epoch's loss arrived, replaced frames or not
