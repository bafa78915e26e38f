"""Finding, downloading, verifying and caching weight files.

A weight file is looked for in this order: a path the user gave explicitly, the cache (``$CUTKIT_HOME``,
else the platform's user cache folder), extra folders such as rembg's cache, and only then downloaded into
the cache from the registry's URLs in turn. A download is written to ``NAME.part`` and renamed into place
only once its size and digest check out, so a file under its final name is always complete; a transfer cut
off mid-way keeps its ``.part`` and the next attempt resumes it with an HTTP ``Range`` request.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import platformdirs
from tqdm import tqdm

from cutkit.zoo.spec import WeightsFile

log = logging.getLogger(__name__)

# Some file hosts answer Python's default agent with 403.
_USER_AGENT = "cutkit (+https://github.com/cutkit)"
# Errors that mean "the connection went away mid-body": the bytes written so far are good and resumable.
_DROPPED = (http.client.IncompleteRead, ConnectionError, TimeoutError)


class WeightsError(RuntimeError):
    """A weight file could not be found, fetched or trusted."""


class WeightsNotFound(WeightsError):
    """No copy of a weight file was found and none could be downloaded; the message says what to do."""


class ChecksumError(WeightsError):
    """A file's size or digest differs from the one the registry expects."""


class DownloadInterrupted(WeightsError):
    """A transfer stopped before its end; calling again resumes the kept ``.part`` (or starts over)."""


def cache_dir() -> Path:
    """The folder weight files are cached in: ``$CUTKIT_HOME`` if set, else the user cache folder.

    The folder is not created here; downloading creates it.
    """
    home = os.environ.get("CUTKIT_HOME")
    if home:
        return Path(home).expanduser()
    return Path(platformdirs.user_cache_dir("cutkit"))


def file_digest(path: str | Path, algo: str = "sha256", *, chunk: int = 1 << 20) -> str:
    """Hex digest of a file's content, read in chunks so large files need little memory.

    Args:
        path: the file.
        algo: any :func:`hashlib.new` name (``sha256``, ``md5``, ...).
        chunk: bytes read at a time.
    """
    digest = hashlib.new(algo)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


def bundled_path(wf: WeightsFile) -> Path:
    """Where a weight file that ships inside the package lives.

    Raises:
        WeightsNotFound: the file is not there (a broken or partial installation: reinstalling fixes it).
    """
    path = BUNDLED_DIR / wf.filename
    if not path.is_file():
        raise WeightsNotFound(
            f"{path}: the weights bundled with cutkit are missing from this installation; reinstall cutkit"
        )
    _check_cached_size(path, wf.size)
    return path


def find_local(wf: WeightsFile, extra_dirs: Sequence[Path] = ()) -> Path | None:
    """The weight file in the package (if bundled), else in the cache or one of ``extra_dirs``, else None.

    Only the size is checked (where the registry knows it): hashing a 176 MB file on every load is too slow,
    and a complete file reached its final name only after its digest was verified.

    Raises:
        ChecksumError: a file of that name exists but has the wrong size (truncated or another version).
        WeightsNotFound: a bundled file is missing from the installation.
    """
    if wf.bundled:
        return bundled_path(wf)
    for folder in (cache_dir(), *extra_dirs):
        path = Path(folder).expanduser() / wf.filename
        if path.is_file():
            _check_cached_size(path, wf.size)
            return path
    return None


def _check_cached_size(path: Path, size: int | None) -> None:
    # Raised rather than skipped: silently downloading past a bad file would hide it from the user.
    if size is None:
        return
    actual = path.stat().st_size
    if actual != size:
        raise ChecksumError(
            f"{path}: size {actual} bytes, expected {size}; the file is truncated or a different version. "
            "Delete it to download it again."
        )


def resolve_weights(
    wf: WeightsFile,
    *,
    explicit: str | Path | None = None,
    extra_dirs: Sequence[Path] = (),
    download: bool = True,
    progress: bool = True,
) -> Path:
    """The path of a weight file, downloading it into the cache when no copy is found.

    Order: ``explicit`` (which must exist: an explicit choice never falls back), then :func:`find_local`,
    then each of ``wf.urls`` in turn. A transfer that drops mid-way is resumed once at once before moving on
    to the next URL.

    Args:
        wf: the file to resolve.
        explicit: a path given by the user; its size and digest are not checked, since it may be a
            fine-tuned variant.
        extra_dirs: further folders to look in (e.g. rembg's ``$U2NET_HOME``, ``~/.u2net``).
        download: when False, never touch the network.
        progress: show a progress bar on stderr while downloading.

    Raises:
        WeightsNotFound: naming where to put the file and where to get it by hand, and why each URL failed.
        ChecksumError: a cached file has the wrong size, or every download failed and one of them did not
            match the expected size or digest.
    """
    if explicit is not None:
        return _explicit_path(explicit)
    found = find_local(wf, extra_dirs)
    if found is not None:
        return found
    dest = cache_dir() / wf.filename
    if not download:
        raise WeightsNotFound(_manual_hint(wf, dest, ["downloading is disabled (download=False)"]))
    return _download_any(wf, dest, progress)


def _explicit_path(explicit: str | Path) -> Path:
    path = Path(explicit).expanduser()
    if not path.is_file():
        raise WeightsNotFound(f"weight file {path} (given explicitly) does not exist or is not a file")
    return path


def _download_any(wf: WeightsFile, dest: Path, progress: bool) -> Path:
    """Try each URL in turn; on failure raise an error that lists every URL's reason."""
    failures: list[WeightsError] = []
    for url in wf.urls:
        try:
            return _download_with_retry(url, dest, wf, progress)
        except WeightsError as exc:
            log.info("%s", exc)  # every reason is in the error raised below
            failures.append(exc)
    reasons = [str(exc) for exc in failures] or ["no download URL is known for it"]
    # A digest mismatch is the more alarming failure (a wrong or tampered file): keep its type.
    cls = ChecksumError if any(isinstance(exc, ChecksumError) for exc in failures) else WeightsNotFound
    raise cls(_manual_hint(wf, dest, reasons)) from (failures[-1] if failures else None)


def _download_with_retry(url: str, dest: Path, wf: WeightsFile, progress: bool) -> Path:
    """:func:`download_file`, run a second time at once when the first transfer was cut off (it resumes)."""
    checks = {"sha256": wf.sha256, "md5": wf.md5, "size": wf.size}
    try:
        return download_file(url, dest, progress=progress, **checks)
    except DownloadInterrupted as exc:
        log.warning("%s; retrying once", exc)
    return download_file(url, dest, progress=progress, **checks)


def _manual_hint(wf: WeightsFile, dest: Path, reasons: Sequence[str]) -> str:
    lines = [f"weight file {wf.filename!r} is not available.", f"  Put the file at: {dest}"]
    if wf.urls:
        lines.append("  It can be downloaded by hand from: " + " or ".join(wf.urls))
    if wf.sha256 or wf.md5:
        algo, digest = ("sha256", wf.sha256) if wf.sha256 else ("md5", wf.md5)
        lines.append(f"  Expected {algo}: {digest}")
    lines.append(
        "  Or give its path with --weights FILE (Python: weights=...); `cutkit models` shows which "
        "models have their weights present."
    )
    lines.append("  Reason:" if len(reasons) == 1 else "  Reasons:")
    lines.extend(f"    {reason}" for reason in reasons)
    return "\n".join(lines)


def download_file(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    size: int | None = None,
    progress: bool = True,
    timeout: float = 30.0,
    chunk: int = 1 << 20,
) -> Path:
    """Download ``url`` to ``dest`` through ``dest.part``, resuming a ``.part`` left by an earlier attempt.

    The finished ``.part`` is checked (size, then sha256, else md5: the whole file, resumed prefix included),
    fsynced and atomically renamed to ``dest``, so ``dest`` never holds a partial file.

    Args:
        url: where to download from (any scheme :mod:`urllib.request` opens).
        dest: the final path; its folder is created.
        sha256: expected hex digest (preferred).
        md5: expected hex digest, used only where no sha256 is given.
        size: expected size in bytes.
        progress: show a progress bar on stderr.
        timeout: seconds to wait to connect and for each read.
        chunk: bytes read at a time.

    Returns:
        ``dest``.

    Raises:
        DownloadInterrupted: the connection dropped mid-transfer; the ``.part`` is kept for the next call.
        ChecksumError: the size or digest differs; the ``.part`` is deleted.
        WeightsError: the URL could not be opened (offline, refused, HTTP error).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = _resume_offset(part, size)
    if size is None or offset != size:  # a .part already of full size only needs its checks
        _transfer(url, part, offset, progress=progress, timeout=timeout, chunk=chunk)
    _verify(part, url, dest.name, sha256=sha256, md5=md5, size=size)
    os.replace(part, dest)
    return dest


def _resume_offset(part: Path, size: int | None) -> int:
    """How many bytes of ``part`` can be kept: all of them, unless it is already larger than the file."""
    if not part.is_file():
        return 0
    have = part.stat().st_size
    if size is not None and have > size:
        log.warning("%s: %d bytes, more than the expected %d; starting over", part, have, size)
        part.unlink()
        return 0
    return have


def _transfer(url: str, part: Path, offset: int, *, progress: bool, timeout: float, chunk: int) -> None:
    """Fetch ``url`` from byte ``offset`` (or from 0 if the server will not resume) into ``part``."""
    with _open(url, part, offset, timeout) as resp:
        if resp.headers.get_content_type() == "text/html":  # a login or "confirm download" page
            raise WeightsError(f"{url}: the server sent a web page (text/html), not the file")
        offset = _body_start(resp, url, offset)
        length = _content_length(resp)
        total = None if length is None else offset + length
        try:
            got = _write_body(resp, part, offset, total, progress=progress, chunk=chunk)
        except _DROPPED as exc:
            raise _interrupted(url, part, f"{type(exc).__name__}: {exc}") from exc
    # http.client returns b"" rather than raising when the peer closes before Content-Length is reached.
    if length is not None and got < length:
        raise _interrupted(url, part, f"connection closed after {got} of {length} bytes")


def _open(url: str, part: Path, offset: int, timeout: float) -> http.client.HTTPResponse:
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            # The server's file is not longer than our .part: the .part belongs to another version.
            part.unlink()
            raise DownloadInterrupted(
                f"{url}: cannot resume from byte {offset} (HTTP 416); "
                f"deleted {part}, the next attempt starts over"
            ) from exc
        raise WeightsError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise WeightsError(f"{url}: offline or unreachable: {exc}") from exc
    except (http.client.HTTPException, OSError) as exc:
        raise WeightsError(f"{url}: {type(exc).__name__}: {exc}") from exc


def _body_start(resp: http.client.HTTPResponse, url: str, offset: int) -> int:
    """The byte the response body starts at: ``offset`` on 206 (resumed), 0 on 200 (whole file).

    A status of None comes from non-HTTP URLs (``file:``), which always send the whole file.
    """
    if resp.status in (200, None):
        if offset:
            log.info("%s: the server does not resume downloads; starting over", url)
        return 0
    content_range = resp.headers.get("Content-Range", "")
    match = re.match(r"bytes (\d+)-", content_range)
    if resp.status != 206 or not match or int(match.group(1)) != offset:
        raise WeightsError(
            f"{url}: unexpected answer to a request from byte {offset}: "
            f"HTTP {resp.status}, Content-Range {content_range!r}"
        )
    return offset


def _content_length(resp: http.client.HTTPResponse) -> int | None:
    value = resp.headers.get("Content-Length")
    return int(value) if value is not None and value.isdigit() else None


def _write_body(
    resp: IO[bytes], part: Path, offset: int, total: int | None, *, progress: bool, chunk: int
) -> int:
    """Append (from ``offset`` > 0) or write the body to ``part``, fsynced; return the bytes received."""
    got = 0
    name = part.name.removesuffix(".part")
    bar = tqdm(
        total=total,
        initial=offset,
        desc=name,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not progress,
        file=sys.stderr,
    )
    with open(part, "ab" if offset else "wb") as f, bar:
        while block := resp.read(chunk):
            f.write(block)
            bar.update(len(block))
            got += len(block)
        f.flush()
        os.fsync(f.fileno())  # the rename that follows must not publish data still in the page cache
    return got


def _interrupted(url: str, part: Path, reason: str) -> DownloadInterrupted:
    have = part.stat().st_size if part.exists() else 0
    return DownloadInterrupted(
        f"{url}: transfer interrupted ({reason}); kept {have} bytes in {part}, "
        "the next attempt resumes from there"
    )


def _verify(
    part: Path, url: str, name: str, *, sha256: str | None, md5: str | None, size: int | None
) -> None:
    """Check ``part``'s size and digest; delete it on a mismatch (a short file is kept: it can resume)."""
    if size is not None:
        actual_size = part.stat().st_size
        if actual_size < size:
            raise _interrupted(url, part, f"got {actual_size} of {size} bytes")
        if actual_size > size:
            part.unlink()
            raise ChecksumError(
                f"{name} from {url}: size mismatch: expected {size} bytes, "
                f"got {actual_size}; the download was deleted"
            )
    algo, expected = ("sha256", sha256) if sha256 else ("md5", md5)
    if expected is None:
        log.warning("%s from %s: no checksum is known, the file is not verified", name, url)
        return
    actual = file_digest(part, algo)
    if actual.lower() != expected.lower():
        part.unlink()
        raise ChecksumError(
            f"{name} from {url}: {algo} mismatch: expected {expected}, got {actual}; the download was deleted"
        )
