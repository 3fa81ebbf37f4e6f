"""Where dataset files come from: search order, sha256 checks, and downloads from a local HTTP server on 127.0.0.1
(correct hash cached, wrong hash refused, interrupted transfer leaves nothing, corrupt cache fetched again)."""

import errno
import hashlib
import http.server
import io
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from glassnet.datasets import _download, boston_housing, imdb, mnist
from glassnet.datasets._download import DataFile, DatasetNotFoundError, IntegrityError

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB: several chunks of the progress bar's reads


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Server:
    """A tiny HTTP server: ``routes[name] = bytes`` serves them; names in ``cut`` stop after half the body."""

    def __init__(self):
        self.routes, self.cut, self.requests = {}, set(), []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip("/")
                server.requests.append(name)
                if name not in server.routes:
                    self.send_error(404)
                    return
                body = server.routes[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if name in server.cut:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No data folders, a fresh cache, and downloads from a port where nothing listens."""
    cache = tmp_path / "cache"
    monkeypatch.delenv(_download.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv(_download.CACHE_DIR_ENV, str(cache))
    monkeypatch.setenv(_download.BASE_URL_ENV, "http://127.0.0.1:9/")
    return cache


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_download_with_the_pinned_hash_is_cached_and_reused(server, tmp_path, capsys):
    server.routes["good.bin"] = PAYLOAD
    file = DataFile("set/good.bin", remote_name="good.bin", remote_sha256=sha256(PAYLOAD))
    path = _download.fetch(file, cache=tmp_path, url=server.url)
    assert path == tmp_path / "set" / "good.bin"
    assert path.read_bytes() == PAYLOAD
    assert files_under(tmp_path) == [path]  # no temporary file left behind
    assert "Downloading good.bin" in capsys.readouterr().err
    _download.fetch(file, cache=tmp_path, url=server.url)
    assert server.requests == ["good.bin"]  # the verified cache copy is used, not downloaded again


def test_download_with_a_wrong_hash_is_refused_and_not_cached(server, tmp_path):
    server.routes["good.bin"] = PAYLOAD
    file = DataFile("set/good.bin", remote_name="good.bin", remote_sha256=sha256(b"something else"))
    with pytest.raises(IntegrityError, match="refused and not cached"):
        _download.fetch(file, cache=tmp_path, url=server.url)
    assert files_under(tmp_path) == []


def test_interrupted_transfer_leaves_no_partial_file(server, tmp_path):
    server.routes["big.bin"] = PAYLOAD
    server.cut.add("big.bin")
    file = DataFile("set/big.bin", remote_name="big.bin", remote_sha256=sha256(PAYLOAD))
    with pytest.raises(DatasetNotFoundError, match="big.bin"):
        _download.fetch(file, cache=tmp_path, url=server.url)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 3], lambda b: b[:-1] + b"x"], ids=["partial", "corrupt"])
def test_corrupt_or_partial_cache_file_is_fetched_again(server, tmp_path, damage):
    server.routes["good.bin"] = PAYLOAD
    file = DataFile("set/good.bin", remote_name="good.bin", remote_sha256=sha256(PAYLOAD))
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "good.bin").write_bytes(damage(PAYLOAD))
    path = _download.fetch(file, cache=tmp_path, url=server.url)
    assert path.read_bytes() == PAYLOAD
    assert server.requests == ["good.bin"]


def test_offline_without_data_raises_one_error_naming_the_file_and_the_three_ways(isolated):
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    assert "mnist/train-images-idx3-ubyte.gz" in message and "mnist/mnist.npz" in message
    assert "path=" in message and "GLASSNET_DATA_DIR" in message and str(isolated) in message
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.__suppress_context__ and info.value.__cause__ is None  # no urllib traceback behind it
    assert not isolated.exists()  # a failed load creates no empty cache folders


def test_offline_message_lists_every_folder_searched_the_url_and_the_fixes(tmp_path, monkeypatch):
    present, missing, cache = tmp_path / "present", tmp_path / "missing", tmp_path / "cache"
    present.mkdir()
    monkeypatch.setenv(_download.DATA_DIR_ENV, os.pathsep.join([str(missing), str(present)]))
    monkeypatch.setenv(_download.CACHE_DIR_ENV, str(cache))
    url = (tmp_path / "no-server").as_uri() + "/"  # a file:// URL to a missing place: fails at once, offline
    monkeypatch.setenv(_download.BASE_URL_ENV, url)
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    lines = str(info.value).splitlines()
    assert lines[0] == "MNIST: the data was not found and could not be downloaded."
    assert lines[2:6] == ["  searched GLASSNET_DATA_DIR:", f"    {missing} (does not exist)",
                          f"    {present} (no complete set there)",
                          f"  searched the cache folder: {cache} (does not exist)"]
    assert lines[6].startswith(f"  download tried: {url}mnist.npz failed: [Errno 2] No such file or directory")
    assert lines[7] == "Provide the data in one of three ways:"
    assert [line[:5] for line in lines[8:]] == ["  1. ", "  2. ", "  3. "]
    assert "GLASSNET_CACHE_DIR" in lines[10] and "GLASSNET_DATASETS_URL" in lines[10]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["present"]  # the cache folder was not created


def test_message_says_when_glassnet_data_dir_is_not_set(isolated):
    with pytest.raises(DatasetNotFoundError, match="searched GLASSNET_DATA_DIR: not set"):
        boston_housing.load_data()


def test_a_cache_that_cannot_be_created_is_named_with_glassnet_cache_dir(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.delenv(_download.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv(_download.CACHE_DIR_ENV, str(blocker / "cache"))
    with pytest.raises(_download.CacheNotWritableError) as info:
        boston_housing.load_data()
    assert str(info.value).startswith(f"The dataset cache folder {blocker / 'cache'} cannot be written")
    assert "Set GLASSNET_CACHE_DIR to a folder you can write" in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the next test covers it")
def test_a_read_only_cache_folder_is_named_with_glassnet_cache_dir(isolated):
    isolated.mkdir(mode=0o555)
    try:
        with pytest.raises(_download.CacheNotWritableError, match=f"{isolated} cannot be written.*Permission"):
            boston_housing.load_data()
        assert list(isolated.iterdir()) == []
    finally:
        isolated.chmod(0o755)


def test_a_cache_on_a_read_only_file_system_is_named_and_left_clean(isolated, monkeypatch):
    isolated.mkdir()

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), kwargs.get("dir"))

    monkeypatch.setattr(_download.tempfile, "mkstemp", read_only)  # what a read-only mount answers, even to root
    with pytest.raises(_download.CacheNotWritableError) as info:
        boston_housing.load_data()
    assert f"The dataset cache folder {isolated} cannot be written" in str(info.value)
    assert "Read-only file system" in str(info.value) and "GLASSNET_CACHE_DIR" in str(info.value)
    assert list(isolated.iterdir()) == []  # the boston_housing/ folder made for the download is gone again


def test_data_dirs_are_searched_in_order_and_a_corrupt_copy_is_skipped(isolated, tmp_path, monkeypatch):
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
    if not (shared / "boston_housing" / "boston_housing.npz").is_file():
        pytest.skip("the shared datasets folder is absent")
    corrupt = tmp_path / "corrupt" / "boston_housing"
    corrupt.mkdir(parents=True)
    (corrupt / "boston_housing.npz").write_bytes(b"not the data")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(_download.DATA_DIR_ENV, os.pathsep.join([str(empty), str(corrupt.parent), str(shared)]))
    with pytest.warns(UserWarning, match="not a pinned value"):
        (x_train, y_train), _ = boston_housing.load_data()
    assert x_train.shape == (404, 13) and y_train[0] == 15.2


def test_explicit_path_is_used_alone_and_verified(isolated, tmp_path):
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "boston_housing"
    if not shared.is_dir():
        pytest.skip("the shared datasets folder is absent")
    (x_train, _), (x_test, _) = boston_housing.load_data(path=shared / "boston_housing.npz")
    assert (len(x_train), len(x_test)) == (404, 102)
    (x_train, _), _ = boston_housing.load_data(path=shared)  # a folder holding the file
    assert len(x_train) == 404
    wrong = tmp_path / "boston_housing.npz"
    wrong.write_bytes(b"x" * 100)
    with pytest.raises(IntegrityError, match="refused"):
        boston_housing.load_data(path=wrong)
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        boston_housing.load_data(path=tmp_path / "nothing.npz")


def test_a_bare_keras_cache_name_as_path_searches_as_usual(tmp_path, monkeypatch):
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
    if not (shared / "boston_housing").is_dir():
        pytest.skip("the shared datasets folder is absent")
    monkeypatch.setenv(_download.DATA_DIR_ENV, str(shared))
    monkeypatch.chdir(tmp_path)
    (x_train, _), _ = boston_housing.load_data(path="boston_housing.npz")  # Keras's default argument
    assert len(x_train) == 404


def test_loader_downloads_into_the_cache_then_reads_it_offline(isolated, server, monkeypatch):
    data = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(data, x=rng.normal(size=(10, 13)), y=rng.normal(size=10))
    server.routes["boston_housing.npz"] = data.getvalue()
    pinned = DataFile("boston_housing/boston_housing.npz", remote_name="boston_housing.npz",
                      remote_sha256=sha256(data.getvalue()))
    monkeypatch.setattr(boston_housing, "_FILES", (pinned,))
    monkeypatch.setenv(_download.BASE_URL_ENV, server.url)
    (x_train, _), (x_test, _) = boston_housing.load_data()
    assert (x_train.shape, x_test.shape) == ((8, 13), (2, 13))
    assert files_under(isolated) == [isolated / "boston_housing" / "boston_housing.npz"]
    server.close()
    (x_again, _), _ = boston_housing.load_data()
    np.testing.assert_array_equal(x_again, x_train)


def test_keras_imdb_npz_is_unpickled_only_after_its_hash_and_cached_pickle_free(isolated, server, monkeypatch):
    reviews = [[5, 1, 7], [2, 2], [9], [4, 8, 3, 6]]
    data = io.BytesIO()
    np.savez(data, x_train=np.array(reviews[:2] + [[1]], dtype=object), y_train=np.array([1, 0, 0]),
             x_test=np.array(reviews[2:], dtype=object), y_test=np.array([1, 0]))
    server.routes["imdb.npz"] = data.getvalue()
    monkeypatch.setattr(imdb, "_KERAS_NPZ", DataFile("imdb/imdb.npz", remote_name="imdb.npz",
                                                     remote_sha256=sha256(data.getvalue())))
    monkeypatch.setenv(_download.BASE_URL_ENV, server.url)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(seed=0, start_char=None, index_from=0)
    order = np.arange(3)
    np.random.RandomState(0).shuffle(order)
    expected = [[5, 1, 7], [2, 2], [1]]
    assert list(x_train) == [expected[i] for i in order]
    flat = isolated / "imdb" / "imdb_keras_flat.npz"
    assert sorted(p.name for p in files_under(isolated)) == ["imdb_keras_flat.npz", "imdb_keras_flat.npz.sha256"]
    with np.load(flat, allow_pickle=False) as f:  # pickle-free
        assert f["x_test_tokens"].tolist() == [9, 4, 8, 3, 6]
    server.close()
    (x_cached, _), _ = imdb.load_data(seed=0, start_char=None, index_from=0)
    assert list(x_cached) == list(x_train)
    flat.write_bytes(flat.read_bytes()[:-10])  # corrupt: refused, and with the server gone, one clear error
    with pytest.warns(UserWarning, match="fetched again"), pytest.raises(DatasetNotFoundError):
        imdb.load_data()


def test_imdb_npz_with_a_wrong_hash_is_never_unpickled(isolated, tmp_path):
    evil = tmp_path / "imdb.npz"
    np.savez(evil, x_train=np.array([[1], [2, 3]], dtype=object))
    with pytest.raises(IntegrityError):
        imdb.load_data(path=evil)
    with pytest.raises(IntegrityError):
        imdb._flat_from_keras_npz(evil)
