"""Remote files through fsspec: URL detection, a fork-safe filesystem per process, retried ranged reads.

fsspec is imported here lazily, on first use, so ``dings.readers`` imports without it; a URL then
raises an ImportError that names the extra to install (``pip install "dings-readers[remote]"``).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

from dings.format import CorruptIndexError, DamagedDataError, IncompleteCommitError

__all__ = [
    "RangeIgnoredError",
    "RemoteError",
    "RemoteFiles",
    "RemoteGeneration",
    "RetryPolicy",
    "data_url",
    "is_url",
    "join_url",
    "local_path",
    "url_name",
]

T = TypeVar("T")

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*(://|::)")
_INSTALL = 'pip install "dings-readers[remote]"'
#: protocol package to suggest when fsspec cannot load a protocol
_PROTOCOL_PACKAGES = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "http": "aiohttp",
    "https": "aiohttp",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
}
#: exception class names (anywhere in the MRO) that mean a network hiccup worth retrying
_TRANSIENT_NAMES = frozenset(
    {
        "ClientConnectionError",
        "ClientOSError",
        "ClientPayloadError",
        "ServerDisconnectedError",
        "ServerTimeoutError",
        "ConnectionTimeoutError",
        "SocketTimeoutError",
        "TransferEncodingError",
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "IncompleteReadError",
        "ResponseStreamingError",
        "ProtocolError",
        "ShortReadError",
    }
)


def is_url(path: object) -> bool:
    """True for a URL string with a scheme other than ``file`` (``s3://…``, ``https://…``, ``simplecache::…``)."""
    if not isinstance(path, str) or not _URL.match(path):
        return False
    return not path.lower().startswith("file://")


def local_path(path: str | os.PathLike) -> str | os.PathLike:
    """``file://`` URLs as local paths; anything else unchanged."""
    if isinstance(path, str) and path.lower().startswith("file://"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(path).path)
    return path


def url_name(url: str) -> str:
    """The last path component of ``url`` (without query), e.g. ``train.msgpack``."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def join_url(url: str, name: str) -> str:
    """``url`` with its last component replaced by ``name`` (a query string is kept)."""
    base, sep, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + sep + query


def data_url(url: str) -> str:
    """The data file's URL for the URL of a data file or of any of its index files."""
    from dings.format import data_path

    name = url_name(url)
    base = data_path(name).name
    return url if base == name else join_url(url, base)


class RemoteError(OSError):
    """A remote read that failed for good: a permanent error, or transient errors past the retries."""


class RangeIgnoredError(RemoteError):
    """The server answered a ranged request with the whole file: it ignores HTTP ``Range``."""


class ShortReadError(OSError):
    """The server sent fewer bytes than asked for (a dropped connection); retried."""


@dataclass(frozen=True)
class RemoteGeneration:
    """What identifies one version of a remote file: its ETag, else its Last-Modified, and its size.

    Attributes:
        size: bytes, or None where an answer did not tell.
        etag: the ``ETag`` as the server sent it (quotes included), or None.
        modified: the ``Last-Modified`` as the server sent it, or None.
    """

    size: int | None
    etag: str | None = None
    modified: str | None = None

    @property
    def tag(self) -> str:
        """One line naming this generation (the cache keys its files by it)."""
        if self.etag:
            return f"etag {self.etag} size {self.size}"
        return f"modified {self.modified or '?'} size {self.size}"

    def differs(self, answer: RemoteGeneration) -> bool:
        """Whether ``answer`` (what one response told) belongs to another generation than this pin.

        The ETag is compared where the pin has one, else the Last-Modified; the size always.
        Parts an answer does not tell are not compared.
        """
        if answer.size is not None and self.size is not None and answer.size != self.size:
            return True
        if self.etag:  # compared weakly: a server may mark the ETag of one answer weak (W/)
            return answer.etag is not None and answer.etag.removeprefix("W/") != self.etag.removeprefix("W/")
        return bool(self.modified) and answer.modified is not None and answer.modified != self.modified


class _Replaced(Exception):
    """An answer belongs to another generation than the pinned one (turned into :func:`replaced_error`)."""


class _NoRanges(Exception):
    """A ranged request was answered with the whole file (turned into :class:`RangeIgnoredError`)."""


class _TooLarge(Exception):
    """An object is larger than the caller allows (turned into :func:`too_large_error`).

    Attributes:
        size: the size the answer declared, or None where it declared none (more was sent than allowed).
    """

    def __init__(self, size: int | None = None) -> None:
        super().__init__(size)
        self.size = size


def replaced_error(url: str) -> IncompleteCommitError:
    """The error for a remote file that is no longer the generation pinned when it was opened."""
    return IncompleteCommitError(
        f"{url}: the dataset was replaced on the server while it was open; open it again", path=url
    )


def too_large_error(url: str, what: str, max_size: int, size: int | None = None) -> CorruptIndexError:
    """The error for an object larger than the ``max_size`` bytes that ``what`` can have."""
    told = f"{size} bytes, more" if size is not None else "more"
    return CorruptIndexError(
        f"{url}: {told} than the {max_size} bytes {what} can have; it was not downloaded "
        "(the remote dataset is damaged or hostile: verify it at its source)",
        path=url,
    )


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _generation_of(info: dict[str, Any]) -> RemoteGeneration:
    """The generation in an fsspec ``info`` dict (http: ``ETag``/``Last-Modified``; s3: ``ETag``/``LastModified``)."""
    size = info.get("size")
    return RemoteGeneration(
        int(size) if size is not None else None,
        _text(info.get("ETag") or info.get("etag")),
        _text(info.get("Last-Modified") or info.get("LastModified") or info.get("mtime")),
    )


def _total(content_range: str | None) -> tuple[int | None, int | None]:
    """First byte and total size from a ``Content-Range: bytes a-b/total`` header (None where absent)."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*", content_range or "")
    if match is None:
        return None, None
    return int(match.group(1)), None if match.group(2) == "*" else int(match.group(2))


def _precondition_failed(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or its cause, as s3fs wraps botocore's errors) is an HTTP 412 answer."""
    while exc is not None:
        response = getattr(exc, "response", None)
        if _status(exc) == 412 or (
            isinstance(response, dict) and response.get("Error", {}).get("Code") == "PreconditionFailed"
        ):
            return True
        exc = exc.__cause__
    return False


async def _read_at_most(
    read: Callable[[int], Awaitable[bytes]], max_size: int, close: Callable[[], None] = lambda: None
) -> bytes:
    """Read a body to its end with ``read(n)`` (at most ``n`` bytes, ``b""`` at the end), but never
    more than ``max_size + 1`` bytes into memory."""
    blocks: list[bytes] = []
    left = max_size + 1
    while left > 0:
        block = await read(min(left, 1 << 20))
        if not block:
            return b"".join(blocks)
        blocks.append(block)
        left -= len(block)
    close()  # more than allowed is on its way: drop the connection instead of reading the rest
    raise _TooLarge


async def _http_get(
    fs: Any,
    url: str,
    start: int | None,
    end: int | None,
    pin: RemoteGeneration | None,
    max_size: int | None = None,
) -> tuple[bytes, RemoteGeneration]:
    """GET ``url`` (bytes ``start`` … ``end - 1``, or all), reading no more than those bytes.

    Sends ``If-Match`` with a pinned strong ETag; returns the body and the generation the answer told.
    A whole object larger than ``max_size`` raises ``_TooLarge``: refused by its ``Content-Length``
    where it has one, else after ``max_size + 1`` bytes were read.
    """
    kwargs = dict(fs.kwargs)
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept-Encoding", "identity")  # byte ranges and ETags of the file itself, not of a gzip
    ranged = start is not None and end is not None
    if ranged:
        headers["Range"] = f"bytes={start}-{end - 1}"  # type: ignore[operator]
    if pin is not None and pin.etag and not pin.etag.startswith("W/"):  # weak ETags never match If-Match
        headers["If-Match"] = pin.etag
    session = await fs.set_session()
    async with session.get(fs.encode_url(url), headers=headers, **kwargs) as response:
        if response.status == 412:
            response.close()
            raise _Replaced
        if response.status == 404:
            response.close()
            raise FileNotFoundError(url)
        response.raise_for_status()
        first, total = _total(response.headers.get("Content-Range"))
        length = response.headers.get("Content-Length")
        if response.status != 206 and length is not None and length.isdigit():
            total = int(length)
        answer = RemoteGeneration(total, response.headers.get("ETag"), response.headers.get("Last-Modified"))
        if pin is not None and pin.differs(answer):
            response.close()
            raise _Replaced
        if not ranged:
            if max_size is None:
                return await response.read(), answer
            if total is not None and total > max_size:
                response.close()
                raise _TooLarge(total)
            return await _read_at_most(response.content.read, max_size, response.close), answer
        if response.status != 206 and not (start == 0 and total == end):
            response.close()  # the whole file is on its way: stop it, read nothing of it
            raise _NoRanges
        if first is not None and first != start:
            response.close()
            raise RemoteError(f"{url}: the server answered bytes {start}-{end - 1} from byte {first}")  # type: ignore[operator]
        data = await response.content.readexactly(end - start)  # type: ignore[operator]
        if length is None or length != str(end - start):  # type: ignore[operator]
            response.close()  # more may follow: drop the connection instead of reading the rest
        return data, answer


async def _http_download(fs: Any, url: str, out: BinaryIO, pin: RemoteGeneration, chunk: int) -> int:
    """Stream the whole object at ``url`` into the binary file ``out``; return its size."""
    kwargs = dict(fs.kwargs)
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept-Encoding", "identity")  # byte ranges and ETags of the file itself, not of a gzip
    session = await fs.set_session()
    written = 0
    async with session.get(fs.encode_url(url), headers=headers, **kwargs) as response:
        if response.status == 404:
            raise FileNotFoundError(url)
        response.raise_for_status()
        answer = RemoteGeneration(None, response.headers.get("ETag"), response.headers.get("Last-Modified"))
        if pin.differs(answer):
            response.close()
            raise _Replaced
        async for block in response.content.iter_chunked(chunk):
            written += len(block)
            if pin.size is not None and written > pin.size:
                response.close()
                raise _Replaced
            out.write(block)
    if pin.size is not None and written != pin.size:
        raise ShortReadError(f"got {written} of {pin.size} bytes")
    return written


async def _s3_get(
    fs: Any,
    path: str,
    start: int | None,
    end: int | None,
    pin: RemoteGeneration | None,
    max_size: int | None = None,
) -> tuple[bytes, RemoteGeneration]:
    """``get_object`` of ``path`` (bytes ``start`` … ``end - 1``, or all) with ``IfMatch`` on a pinned ETag.

    An object larger than ``max_size`` raises ``_TooLarge`` by its ``ContentLength``, before its body is read.
    """
    bucket, key, version = fs.split_path(path)
    kwargs: dict[str, Any] = {}
    if start is not None and end is not None:
        kwargs["Range"] = f"bytes={start}-{end - 1}"
    if version:
        kwargs["VersionId"] = version
    if pin is not None and pin.etag:
        kwargs["IfMatch"] = pin.etag
    try:
        response = await fs._call_s3("get_object", Bucket=bucket, Key=key, **kwargs)
    except OSError as exc:
        if _precondition_failed(exc):
            raise _Replaced from None
        raise
    body = response["Body"]
    try:
        length = response.get("ContentLength")
        if max_size is not None and isinstance(length, int) and length > max_size:
            raise _TooLarge(length)
        data = await body.read() if max_size is None else await _read_at_most(body.read, max_size)
    finally:
        body.close()
    _, total = _total(response.get("ContentRange"))
    if total is None and "Range" not in kwargs:
        total = response.get("ContentLength")
    answer = RemoteGeneration(total, _text(response.get("ETag")), _text(response.get("LastModified")))
    if pin is not None and pin.differs(answer):
        raise _Replaced
    return data, answer


@dataclass(frozen=True)
class RetryPolicy:
    """How transient errors (connection errors, timeouts, HTTP 5xx/429/408, short reads) are retried.

    Args:
        retries: further attempts after the first one.
        backoff: seconds before the first retry; doubled for each further one.
        max_backoff: upper bound of one wait.
    """

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0

    def __post_init__(self) -> None:
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ValueError(f"retries must be an int >= 0, got {self.retries!r}")
        if not self.backoff >= 0 or not self.max_backoff >= 0:
            raise ValueError(
                f"backoff and max_backoff must be >= 0 seconds, got {self.backoff!r} and {self.max_backoff!r}"
            )

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        return min(self.max_backoff, self.backoff * (2**attempt))


def _status(exc: BaseException) -> int | None:
    for name in ("status", "status_code", "code"):
        value = getattr(exc, name, None)
        if isinstance(value, int) and 100 <= value <= 599:
            return value
    response = getattr(exc, "response", None)  # botocore ClientError
    if isinstance(response, dict):
        value = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(value, int):
            return value
    return None


def _cause(exc: BaseException) -> BaseException:
    """The error behind ``exc``: fsspec's HTTP size look-up reports every failure as FileNotFoundError."""
    cause = exc.__cause__
    if isinstance(exc, FileNotFoundError) and cause is not None and not isinstance(cause, FileNotFoundError):
        return cause
    return exc


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is worth retrying (network trouble, 5xx, 429, 408) rather than permanent."""
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False
    status = _status(exc)
    if status is not None:
        return status >= 500 or status in (408, 429)
    if isinstance(exc, (ConnectionError, TimeoutError, ShortReadError)):
        return True
    if any(cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__):
        return True
    # s3fs turns throttling and server errors that outlived its own retries into a plain OSError (EIO)
    return type(exc) is OSError


def _describe(exc: BaseException) -> str:
    status = _status(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"HTTP {status}: {text}" if status and str(status) not in text else f"{type(exc).__name__}: {text}"


def _fsspec() -> Any:
    try:
        import fsspec
    except ImportError:
        raise ImportError(
            f"reading URLs needs fsspec: {_INSTALL} (plus s3fs for s3://, gcsfs for gs://, aiohttp for http(s)://)"
        ) from None
    return fsspec


def _with_timeouts(url: str, options: dict[str, Any], timeouts: tuple[float, float] | None) -> dict[str, Any]:
    """``options`` plus connect/read time-outs for the protocols that take them (http(s), s3),
    unless the caller set their own."""
    if timeouts is None:
        return options
    connect, read = timeouts
    protocol = url.split("://", 1)[0].split("::")[-1].lower()
    options = dict(options)
    if protocol in ("http", "https"):
        client = dict(options.get("client_kwargs") or {})
        if "timeout" not in client:
            import aiohttp

            client["timeout"] = aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)
            options["client_kwargs"] = client
    elif protocol in ("s3", "s3a"):
        config = dict(options.get("config_kwargs") or {})
        config.setdefault("connect_timeout", connect)
        config.setdefault("read_timeout", read)
        options["config_kwargs"] = config
    return options


class RemoteFiles:
    """Files behind one fsspec URL scheme, read with retries; safe to use after ``fork``.

    The fsspec filesystem is created lazily and again in every new process (fsspec's async
    filesystems must not cross a ``fork``), so a reader opened before DataLoader workers fork
    works in each of them.

    Args:
        url: any URL of the filesystem (it selects the protocol and its options).
        storage_options: keyword arguments for the fsspec filesystem (e.g. ``endpoint_url``, ``anon``).
        retry: the retry policy for transient errors.
    """

    def __init__(
        self,
        url: str,
        storage_options: dict[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        timeouts: tuple[float, float] | None = (10.0, 30.0),
    ) -> None:
        if timeouts is not None and not all(
            isinstance(t, (int, float)) and not isinstance(t, bool) and t > 0 for t in timeouts
        ):
            raise ValueError(f"connect_timeout and read_timeout must be positive numbers of seconds, got {timeouts!r}")
        self.url = url
        self.timeouts = timeouts
        self.storage_options = dict(storage_options or {})
        self.retry = retry or RetryPolicy()
        self.requests = 0
        self.bytes_fetched = 0
        self._fs: Any = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_fs"] = state["_pid"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def fs(self) -> Any:
        """The fsspec filesystem of this process."""
        if self._fs is None or self._pid != os.getpid():
            fsspec = _fsspec()
            try:
                fs, _ = fsspec.core.url_to_fs(self.url, **_with_timeouts(self.url, self.storage_options, self.timeouts))
            except ImportError as exc:
                protocol = self.url.split("://", 1)[0].split("::")[-1].lower()
                package = _PROTOCOL_PACKAGES.get(protocol, f"the fsspec package for {protocol}://")
                raise ImportError(
                    f"{self.url}: fsspec cannot load the {protocol}:// protocol ({exc}); pip install {package}"
                ) from None
            except ValueError as exc:
                raise ValueError(f"{self.url}: not a URL fsspec knows ({exc}); check the scheme") from None
            self._fs, self._pid = fs, os.getpid()
        return self._fs

    def path(self, url: str) -> str:
        """The filesystem's own path for ``url`` (fsspec strips the protocol for some schemes)."""
        return self.fs._strip_protocol(url.split("::")[-1]) if "::" in url else self.fs._strip_protocol(url)

    def call(self, url: str, what: str, action: Callable[[], T]) -> T:
        """Run ``action`` (one request for ``url``) with the retry policy.

        Args:
            url: the object the request is about (named in errors).
            what: what is being fetched, for errors (e.g. ``"the keys index of s3://b/train.msgpack"``).
            action: the request.

        Raises:
            FileNotFoundError: the object does not exist.
            PermissionError: access is denied.
            RemoteError: any other permanent error, or transient errors past the retries.
        """
        attempt = 0
        while True:
            with self._lock:
                self.requests += 1
            try:
                return action()
            except (ImportError, DamagedDataError, RemoteError):
                raise  # already clear (a replaced dataset, a server that ignores Range, …): never retried
            except Exception as caught:
                exc = _cause(caught)
                if isinstance(exc, FileNotFoundError) or _status(exc) in (404, 410):
                    # a missing optional file is normal: the filesystem library may keep its error,
                    # which must not keep this call's frames (and the reader opening) alive
                    caught.__traceback__ = exc.__traceback__ = None
                    raise FileNotFoundError(f"{url}: not found (reading {what}); check the URL") from caught
                if isinstance(exc, PermissionError) or _status(exc) in (401, 403):
                    raise PermissionError(
                        f"{url}: access denied (reading {what}); check credentials and storage_options"
                    ) from caught
                if not is_transient(exc):
                    raise RemoteError(f"{url}: reading {what} failed: {_describe(exc)}") from caught
                if attempt >= self.retry.retries:
                    raise RemoteError(
                        f"{url}: reading {what} failed after {attempt + 1} attempts: {_describe(exc)}; "
                        "check the network or raise retries"
                    ) from caught
                time.sleep(self.retry.delay(attempt))
                attempt += 1
                self._refresh_after(exc)

    def _refresh_after(self, exc: BaseException) -> None:
        """After a connection error, use a fresh filesystem (its session may be broken)."""
        if isinstance(exc, (ConnectionError, TimeoutError)) or any(
            cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__
        ):
            try:
                self.fs.invalidate_cache()
            except Exception:
                pass

    def size(self, url: str, what: str) -> int:
        """Size of the object at ``url`` in bytes (asked fresh, not from a listing cache)."""
        fs = self.fs
        path = self.path(url)

        def ask() -> int:
            fs.invalidate_cache(path)
            size = fs.size(path)
            if size is None:
                raise RemoteError(f"{url}: the server does not tell the size of {what}; it cannot be read by ranges")
            return int(size)

        return self.call(url, what, ask)

    def pin(self, url: str, what: str) -> RemoteGeneration:
        """The generation of the object at ``url`` now (ETag, Last-Modified, size; asked fresh)."""
        fs = self.fs
        path = self.path(url)

        def ask() -> RemoteGeneration:
            fs.invalidate_cache(path)
            generation = _generation_of(fs.info(path))
            if generation.size is None:
                raise RemoteError(f"{url}: the server does not tell the size of {what}; it cannot be read by ranges")
            return generation

        return self.call(url, what, ask)

    def _protocol(self) -> str | None:
        """``"http"`` or ``"s3"`` where requests can carry and answer generation headers, else None."""
        fs = self.fs
        protocol = getattr(fs, "protocol", None) or ""
        protocol = protocol if isinstance(protocol, str) else protocol[0]
        if protocol in ("http", "https") and hasattr(fs, "set_session") and hasattr(fs, "encode_url"):
            return "http"
        if protocol in ("s3", "s3a") and hasattr(fs, "_call_s3") and hasattr(fs, "split_path"):
            return "s3"
        return None

    def _get(
        self,
        url: str,
        start: int | None,
        end: int | None,
        pin: RemoteGeneration | None,
        max_size: int | None = None,
        what: str = "",
    ) -> tuple[bytes, RemoteGeneration | None]:
        """One request: the body and the generation the answer told (None where the protocol hides it).

        ``max_size`` bounds a whole object (``start`` and ``end`` None): no more than ``max_size + 1``
        bytes of it are read.

        Raises:
            IncompleteCommitError: the answer belongs to another generation than ``pin``.
            RangeIgnoredError: a ranged request was answered with the whole file (http).
            CorruptIndexError: the whole object is larger than ``max_size``.
        """
        fs = self.fs
        path = self.path(url)
        protocol = self._protocol()
        try:
            if protocol is not None:
                from fsspec.asyn import sync

                get = _http_get if protocol == "http" else _s3_get
                return sync(fs.loop, get, fs, path, start, end, pin, max_size)
        except _Replaced:
            raise replaced_error(url) from None
        except _NoRanges:
            raise RangeIgnoredError(f"{url}: the server ignores HTTP Range requests") from None
        except _TooLarge as exc:
            raise too_large_error(url, what, max_size, exc.size) from None  # type: ignore[arg-type]
        if max_size is None or start is not None or end is not None:
            return fs.cat_file(path, start=start, end=end), None
        data = fs.cat_file(path, start=0, end=max_size + 1)  # one ranged read, never more than allowed
        if len(data) > max_size:
            raise too_large_error(url, what, max_size)
        return data, None

    def get(
        self, url: str, what: str, pin: RemoteGeneration | None = None, max_size: int | None = None
    ) -> tuple[bytes, RemoteGeneration | None]:
        """The whole object at ``url`` and its generation (None where the protocol does not tell).

        Args:
            url: the object.
            what: what is being fetched, for errors.
            pin: the generation it must still be (a different one raises ``IncompleteCommitError``).
            max_size: the most bytes the object may have (e.g. :func:`dings.format.index_size_limit`):
                a larger one is refused by the size its answer declares, or once ``max_size + 1``
                bytes were read, never read whole. ``None``: any size.

        Raises:
            dings.format.CorruptIndexError: the object is larger than ``max_size`` (not retried).
        """
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0):
            raise ValueError(f"max_size must be a number of bytes >= 0 or None, got {max_size!r}")
        data, answer = self.call(url, what, lambda: self._get(url, None, None, pin, max_size, what))
        with self._lock:
            self.bytes_fetched += len(data)
        return data, answer

    def download(self, url: str, out: BinaryIO, what: str, pin: RemoteGeneration, chunk: int = 1 << 20) -> bool:
        """Stream the whole object at ``url`` into the binary file ``out`` in one request (http only),
        for a server that ignores ``Range``; a retry starts the file again.

        Returns:
            False where the protocol has no streamed download here (read it with :meth:`iter_blocks`).

        Raises:
            IncompleteCommitError: the object is no longer the generation ``pin``.
        """
        if self._protocol() != "http":
            return False
        fs = self.fs
        path = self.path(url)

        def fetch() -> int:
            from fsspec.asyn import sync

            out.seek(0)
            out.truncate()
            try:
                return sync(fs.loop, _http_download, fs, path, out, pin, chunk)
            except _Replaced:
                raise replaced_error(url) from None

        size = self.call(url, what, fetch)
        with self._lock:
            self.bytes_fetched += size
        return True

    def exists(self, url: str, what: str) -> bool:
        """Whether the object at ``url`` exists."""
        fs = self.fs
        path = self.path(url)
        return bool(self.call(url, what, lambda: fs.exists(path)))

    def cat(self, url: str, what: str, max_size: int | None = None) -> bytes:
        """The whole object at ``url``; one larger than ``max_size`` bytes is refused (see :meth:`get`)."""
        return self.get(url, what, max_size=max_size)[0]

    def cat_range(
        self, url: str, start: int, end: int, what: str, size: int | None = None, pin: RemoteGeneration | None = None
    ) -> bytes:
        """Bytes ``start`` … ``end - 1`` of the object at ``url`` in one ranged request (retried).

        Over http(s) and s3 no more than those bytes are read, and the answer is checked against
        ``pin`` (``If-Match`` on its ETag, and the ETag or Last-Modified and size of the answer).

        Args:
            url: the object.
            start: first byte.
            end: end byte, exclusive.
            what: what is being fetched, for errors.
            size: the object's size, to recognise a server that ignores ``Range``.
            pin: the generation the object must still be.

        Raises:
            IncompleteCommitError: the object was replaced (it is no longer the generation ``pin``).
            RangeIgnoredError: the server answered with the whole file (it ignores ``Range``).
        """
        if end <= start:
            return b""
        wanted = end - start
        if pin is not None and size is None:
            size = pin.size

        def fetch() -> bytes:
            data = self._get(url, start, end, pin)[0]
            if len(data) == wanted:
                return data
            if size is not None and len(data) == size and size > wanted:  # Range ignored: the whole object came
                return bytes(memoryview(data)[start:end])
            if len(data) > wanted:  # an open-ended answer (start … end of object)
                return bytes(memoryview(data)[:wanted])
            raise ShortReadError(f"got {len(data)} of {wanted} bytes (bytes {start}-{end - 1})")

        data = self.call(url, f"{what}, bytes {start}-{end - 1}", fetch)
        with self._lock:
            self.bytes_fetched += len(data)
        return data

    def cat_ranges(
        self,
        url: str,
        ranges: Sequence[tuple[int, int]],
        what: str,
        size: int | None = None,
        concurrency: int = 16,
        pin: RemoteGeneration | None = None,
    ) -> list[bytes]:
        """The bytes of every ``(start, end)`` in ``ranges``, in that order, with up to ``concurrency``
        requests in flight at once; each is one :meth:`cat_range` (retried on its own).

        Raises:
            as :meth:`cat_range`, for the first range that failed.
        """
        if len(ranges) <= 1 or concurrency <= 1:
            return [self.cat_range(url, start, end, what, size, pin) for start, end in ranges]
        self.fs  # noqa: B018 - create this process's filesystem before the threads share it
        with ThreadPoolExecutor(min(concurrency, len(ranges)), thread_name_prefix="dings-fetch") as pool:
            return list(pool.map(lambda bounds: self.cat_range(url, bounds[0], bounds[1], what, size, pin), ranges))

    def iter_blocks(
        self, url: str, size: int, block_size: int, what: str, ahead: int = 4, pin: RemoteGeneration | None = None
    ) -> Iterator[bytes]:
        """The object at ``url`` as consecutive blocks of at most ``block_size`` bytes (one request
        each), in order; ``ahead`` blocks are fetched at once (at most ``ahead × block_size`` bytes in
        memory), which multiplies the throughput of a single stream from an object store.

        From a server that ignores ``Range`` (found out by the first requests, which stop at once)
        the object is downloaded in one stream into a temporary file, and the blocks read from it.
        """
        starts = range(0, size, block_size)
        for first in range(0, len(starts), max(1, ahead)):
            ranges = [(start, min(size, start + block_size)) for start in starts[first : first + max(1, ahead)]]
            try:
                blocks = self.cat_ranges(url, ranges, what, size, concurrency=ahead, pin=pin)
            except RangeIgnoredError:
                if first or self._protocol() != "http":
                    raise
                yield from self._downloaded_blocks(url, block_size, what, pin or RemoteGeneration(size))
                return
            yield from blocks

    def _downloaded_blocks(self, url: str, block_size: int, what: str, pin: RemoteGeneration) -> Iterator[bytes]:
        """The object at ``url`` downloaded in one stream into a temporary file, read back in blocks."""
        with tempfile.TemporaryFile() as tmp:
            self.download(url, tmp, what, pin)
            tmp.seek(0)
            while block := tmp.read(block_size):
                yield block

    def glob(self, pattern: str) -> list[str]:
        """URLs matching a glob ``pattern`` (same protocol and options)."""
        fs = self.fs
        protocol = pattern.split("://", 1)[0] if "://" in pattern else None

        def listing() -> list[str]:
            fs.invalidate_cache()  # a listing cached earlier in this process may be stale
            return fs.glob(self.path(pattern))

        matches = self.call(pattern, "the listing for this pattern", listing)
        urls = []
        for match in matches:
            if "://" in match or protocol is None:
                urls.append(match)
            else:
                urls.append(fs.unstrip_protocol(match) if hasattr(fs, "unstrip_protocol") else f"{protocol}://{match}")
        return urls
