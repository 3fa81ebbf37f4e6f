"""Where dataset files come from, and how they are checked.

Search order: an explicit ``path``; the folders in ``GLASSNET_DATA_DIR`` (several allowed, joined by ``os.pathsep``);
the cache (``~/.glassnet/datasets``, or ``GLASSNET_CACHE_DIR``); otherwise a download from the Keras URLs
(``GLASSNET_DATASETS_URL`` overrides the base). Every file is accepted only when its sha256 is one of the pinned
values, and a download is written to the cache atomically (temporary file, then ``os.replace``), so an interrupted
transfer or a corrupt cache file is never read as data. A data folder and the cache share one layout
(``mnist/...``, ``imdb/...``, ``boston_housing/...``, ``fashion-mnist/...``). When nothing is found, one
:class:`DatasetNotFoundError` lists every place searched, the URL tried and the three fixes; a cache that cannot be
written raises :class:`CacheNotWritableError`; neither leaves a file or an empty folder behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DATA_DIR_ENV = "GLASSNET_DATA_DIR"
CACHE_DIR_ENV = "GLASSNET_CACHE_DIR"
BASE_URL_ENV = "GLASSNET_DATASETS_URL"
RECORDED_HASH_SUFFIX = ".sha256"  # sidecar written next to a file that glassnet converted into the cache
_CHUNK = 1 << 20


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is in none of the searched places and could not be downloaded."""


class CacheNotWritableError(PermissionError):
    """The cache folder cannot be written, so a downloaded or converted file has nowhere to go."""


class IntegrityError(ValueError):
    """A file's sha256 matches none of the pinned values: it is refused, never read as data."""


@dataclass(frozen=True)
class DataFile:
    """One dataset file: its place in a data folder or the cache, the sha256 values accepted there, and, when
    Keras publishes it, its download name (relative to the base URL) with the pinned sha256 of the download."""

    relpath: str
    local_sha256: tuple[str, ...] = ()
    remote_name: str | None = None
    remote_sha256: str | None = None

    @property
    def accepted_sha256(self) -> tuple[str, ...]:
        return self.local_sha256 + ((self.remote_sha256,) if self.remote_sha256 else ())

    @property
    def name(self) -> str:
        return Path(self.relpath).name


def data_dirs() -> list[Path]:
    """The folders named by ``GLASSNET_DATA_DIR``, in order (empty entries skipped)."""
    return [Path(p).expanduser() for p in os.environ.get(DATA_DIR_ENV, "").split(os.pathsep) if p]


def cache_dir(directory: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``directory`` if given, else ``GLASSNET_CACHE_DIR``, else ``~/.glassnet/datasets``."""
    chosen = directory or os.environ.get(CACHE_DIR_ENV) or Path.home() / ".glassnet" / "datasets"
    return Path(chosen).expanduser()


def base_url(url: str | None = None) -> str:
    """The download base: ``url`` if given, else ``GLASSNET_DATASETS_URL``, else Keras's bucket."""
    chosen = url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    return chosen if chosen.endswith("/") else chosen + "/"


def sha256_of(path: str | os.PathLike) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_verified(path: str | os.PathLike, sha256: str) -> bytes:
    """The bytes of ``path``, hashed in memory so that exactly the checked bytes are used (no re-read)."""
    data = Path(path).read_bytes()
    received = hashlib.sha256(data).hexdigest()
    if received != sha256:
        raise IntegrityError(f"{path} has sha256 {received}, expected the pinned {sha256}; the file is refused")
    return data


def record_hash(path: Path) -> None:
    """Write the sha256 of a file glassnet produced into its sidecar, so the cache can verify it later."""
    write_atomically(_sidecar(path), sha256_of(path).encode("ascii"))


def locate(
    dataset: str,
    alternatives: Sequence[Sequence[DataFile]],
    path: str | os.PathLike | None = None,
    *,
    cache: str | os.PathLike | None = None,
    url: str | None = None,
) -> tuple[int, list[Path]]:
    """Find one complete, verified set of files for ``dataset``; download it into the cache if none is present.

    ``alternatives`` lists the file sets that hold the data (for example MNIST's four IDX files, or Keras's
    ``mnist.npz``), preferred first. Returns the index of the set found and the paths of its files.
    An explicit ``path`` (a folder, or one file recognized by its sha256) is the only place searched when given;
    a bare file name that does not exist here (Keras's ``path="mnist.npz"``, a name inside its cache) searches as
    if no path was given.
    """
    if path is not None and not _is_keras_cache_name(Path(path)):
        return _locate_in_path(dataset, alternatives, Path(path).expanduser())
    for folder in data_dirs():
        found = _find_in_folder(alternatives, folder, in_cache=False)
        if found:
            return found
    cache_folder = cache_dir(cache)
    found = _find_in_folder(alternatives, cache_folder, in_cache=True)
    if found:
        return found
    for index, files in enumerate(alternatives):
        if all(f.remote_name for f in files):
            return index, [fetch(f, cache=cache_folder, url=url, dataset=dataset, alternatives=alternatives)
                           for f in files]
    raise DatasetNotFoundError(_not_found_message(dataset, alternatives, cache_folder,
                                                  tried="none (these files are not published for download)"))


def fetch(
    file: DataFile,
    *,
    cache: str | os.PathLike | None = None,
    url: str | None = None,
    dataset: str | None = None,
    alternatives: Sequence[Sequence[DataFile]] | None = None,
) -> Path:
    """The cached copy of ``file``, downloaded (with a progress bar on stderr) when absent or corrupt.

    The download is hashed while it streams; it lands in the cache only if its sha256 equals the pinned one. A
    failed download leaves the cache as it was: no file, and no folder it created.
    """
    cache_folder = cache_dir(cache)
    target = cache_folder / file.relpath
    if target.is_file() and sha256_of(target) in file.accepted_sha256:
        return target
    source = base_url(url) + file.remote_name
    created = make_folders(target.parent, cache_folder)
    try:
        _download(source, target, file.remote_sha256, cache_folder)
    except BaseException as err:
        remove_empty_folders(created)
        if isinstance(err, (CacheNotWritableError, IntegrityError)) or not isinstance(
                err, (OSError, http.client.HTTPException)):
            raise
        message = _not_found_message(dataset or file.relpath, alternatives or [[file]], cache_folder,
                                     tried=f"{source} failed: {_reason(err)}")
        raise DatasetNotFoundError(message) from None  # the message says it all: no urllib traceback
    return target


def make_folders(folder: Path, cache_folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; returns those created, outermost first. A folder that cannot be
    created raises :class:`CacheNotWritableError` naming the cache folder."""
    created = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        remove_empty_folders(created)
        raise CacheNotWritableError(_unwritable_message(cache_folder, err)) from None
    return created


def remove_empty_folders(folders: Sequence[Path]) -> None:
    """Remove those of ``folders`` (outermost first) that are empty, innermost first."""
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _reason(err: BaseException) -> str:
    """An error's own words, without urllib's wrapping (``<urlopen error ...>``)."""
    reason = getattr(err, "reason", None)
    return str(reason if reason is not None else err)


def _unwritable_message(cache_folder: Path, err: OSError) -> str:
    where = f" ({err.filename})" if err.filename and str(err.filename) != str(cache_folder) else ""
    return (f"The dataset cache folder {cache_folder} cannot be written{where}: {err.strerror or err}. Set "
            f"{CACHE_DIR_ENV} to a folder you can write, or put the files into a folder named by {DATA_DIR_ENV}.")


def _is_keras_cache_name(path: Path) -> bool:
    return str(path) == path.name and not path.exists()


def _locate_in_path(dataset, alternatives, path: Path) -> tuple[int, list[Path]]:
    if path.is_dir():
        found = _find_in_folder(alternatives, path, in_cache=False, explicit=True)
        if found:
            return found
        wanted = " or ".join(", ".join(f.relpath for f in files) for files in alternatives)
        raise DatasetNotFoundError(f"load_data received path={str(path)!r}, a folder without the {dataset} files "
                                   f"(expected {wanted}, at those relative paths or directly in the folder)")
    if not path.is_file():
        raise DatasetNotFoundError(f"load_data received path={str(path)!r}, which does not exist")
    received = sha256_of(path)
    for index, files in enumerate(alternatives):
        if len(files) == 1 and received in files[0].accepted_sha256:
            return index, [path]
    raise IntegrityError(f"load_data received path={str(path)!r} with sha256 {received}, which matches none of "
                         f"the pinned {dataset} files; the file is refused")


def _find_in_folder(alternatives, folder: Path, *, in_cache: bool, explicit: bool = False):
    """The first alternative whose files all exist in ``folder`` at their relative paths (or, for a folder the
    user passed as ``path``, directly inside it) with an accepted sha256. A present file with a wrong hash is
    skipped with a warning; in an explicit folder it is refused with an error."""
    for index, files in enumerate(alternatives):
        paths = [_existing(folder, f, explicit) for f in files]
        if None in paths:
            continue
        bad = [(p, h) for p, f in zip(paths, files) if (h := sha256_of(p)) not in _accepted(f, p, in_cache)]
        if not bad:
            return index, paths
        message = "; ".join(f"{p} has sha256 {h}, which is not a pinned value" for p, h in bad)
        if explicit:
            raise IntegrityError(message + "; the file is refused")
        warnings.warn(message + "; skipping it" + (" (it will be fetched again)" if in_cache else ""), stacklevel=3)
    return None


def _existing(folder: Path, file: DataFile, explicit: bool) -> Path | None:
    for candidate in (folder / file.relpath, folder / file.name) if explicit else (folder / file.relpath,):
        if candidate.is_file():
            return candidate
    return None


def _accepted(file: DataFile, path: Path, in_cache: bool) -> tuple[str, ...]:
    """Pinned hashes, plus, in the cache only and only for a file glassnet made itself (one with no download of its
    own, like the converted IMDB arrays), the hash recorded when it was written."""
    sidecar = _sidecar(path)
    if in_cache and file.remote_sha256 is None and sidecar.is_file():
        return file.accepted_sha256 + (sidecar.read_text("ascii").strip(),)
    return file.accepted_sha256


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + RECORDED_HASH_SUFFIX)


def _download(source: str, target: Path, sha256: str, cache_folder: Path) -> None:
    """Stream ``source`` into a temporary file beside ``target``, hashing as it goes, and move it onto ``target``
    only when the transfer is complete and its sha256 is the pinned one. Any failure removes the temporary file."""
    digest = hashlib.sha256()
    fd, tmp_name = _temporary_file(target, cache_folder)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(source, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = _ProgressBar(target.name, total)
            received = 0
            try:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(received)
            finally:
                bar.update(received, force=True)
                bar.close()
            if total is not None and received != total:
                raise OSError(f"transfer interrupted after {received} of {total} bytes")
        if digest.hexdigest() != sha256:
            raise IntegrityError(f"the download of {source} has sha256 {digest.hexdigest()}, expected the pinned "
                                 f"{sha256}; it was refused and not cached")
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (a file in the cache) through a temporary file and ``os.replace``: readers see
    all of it or nothing. A cache that cannot be written raises :class:`CacheNotWritableError`."""
    created = make_folders(path.parent, cache_dir())
    try:
        fd, tmp_name = _temporary_file(path, cache_dir())
    except CacheNotWritableError:
        remove_empty_folders(created)
        raise
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)


def _temporary_file(target: Path, cache_folder: Path) -> tuple[int, str]:
    """A new temporary file beside ``target`` (descriptor, name); a folder that refuses it raises
    :class:`CacheNotWritableError`."""
    try:
        return tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as err:
        raise CacheNotWritableError(_unwritable_message(cache_folder, err)) from None


def _folder_state(folder: Path, searched: str = "") -> str:
    if not folder.exists():
        return " (does not exist)"
    return searched if folder.is_dir() else " (not a folder)"


def _not_found_message(dataset: str, alternatives, cache_folder: Path, tried: str) -> str:
    """Everything a user needs at once: the files wanted, every place searched, the download tried, the fixes."""
    wanted = " or ".join(" + ".join(f.relpath for f in files) for files in alternatives)
    folders = data_dirs()
    searched = "".join(f"\n    {folder}{_folder_state(folder, ' (no complete set there)')}" for folder in folders)
    return (
        f"{dataset}: the data was not found and could not be downloaded.\n"
        f"  wanted: {wanted}\n"
        f"  searched {DATA_DIR_ENV}:{searched or ' not set'}\n"
        f"  searched the cache folder: {cache_folder}{_folder_state(cache_folder)}\n"
        f"  download tried: {tried}\n"
        f"Provide the data in one of three ways:\n"
        f"  1. pass path= to load_data: one of those files, or a folder holding them;\n"
        f"  2. set {DATA_DIR_ENV} to a folder that holds them at those relative paths "
        f"(several folders joined with {os.pathsep!r});\n"
        f"  3. put them into the cache folder {cache_folder} at those relative paths ({CACHE_DIR_ENV} moves it), "
        f"or let the download through ({BASE_URL_ENV} sets another address)."
    )


class _ProgressBar:
    """A one-line download bar on stderr, redrawn at most ten times a second."""

    def __init__(self, name: str, total: int | None, width: int = 30):
        self.name, self.total, self.width, self.last = name, total, width, 0.0

    def update(self, received: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        mb = received / 1e6
        if self.total:
            done = int(self.width * received / self.total)
            line = f"[{'=' * done}{'.' * (self.width - done)}] {mb:.1f}/{self.total / 1e6:.1f} MB"
        else:
            line = f"{mb:.1f} MB"
        sys.stderr.write(f"\rDownloading {self.name} {line}")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()
