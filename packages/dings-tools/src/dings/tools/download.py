"""Downloading one file over HTTP(S): resumable, retried, and moved into place only when complete.

The file is streamed to ``PATH.part``. After an interruption the next attempt asks for the rest with
``Range: bytes=N-`` (N = size of the ``.part`` file); a server that answers ``200`` instead of ``206``
sends the whole file again, so the ``.part`` file is truncated and filled from the start. Transient
failures (connection dropped or reset, timeouts, HTTP 5xx, 408 and 429) are retried with exponential
back-off; other HTTP errors (404, 403, …) and errors that waiting cannot fix (a host name that does
not resolve, as when offline; no route to the network) fail at once. Only the standard library is used.

Download confirmation pages are followed: when the server answers with an HTML page that only asks
to confirm the download (Google Drive does so for files too large to scan for viruses: a form with a
hidden ``confirm`` field, or a link with ``confirm=``), the request the page would send is made
instead, with the cookies the page set. Any other HTML page is saved as it came.
"""

from __future__ import annotations

import errno
import http.client
import http.cookiejar
import os
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import IO

from dings.format import progress_bar

from .__about__ import __version__

__all__ = ["DownloadError", "download"]

PathLike = str | os.PathLike

_USER_AGENT = f"dings-tools/{__version__} (Python urllib)"
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)", re.IGNORECASE)
#: confirmation pages are small; a larger HTML answer is taken as the file itself
_PAGE_LIMIT = 1 << 20
#: confirmation pages followed in a row before giving up
_MAX_CONFIRMATIONS = 3


class DownloadError(OSError):
    """A download failed: the server refused it (e.g. 404) or every retry failed.

    Attributes:
        url: the URL that was requested.
        status: the HTTP status of the last answer, or ``None`` when no answer came (network error).
    """

    def __init__(self, message: str, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class _Confirm(Exception):
    """The answer was a download confirmation page; ``url`` is the request it would send."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class _Transient(Exception):
    """A failure worth another attempt; the message says what happened."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def download(
    url: str,
    path: PathLike,
    progress: bool | None = True,
    retries: int = 5,
    timeout: float = 60.0,
    chunk_size: int = 1 << 20,
    backoff: float = 1.0,
    max_backoff: float = 60.0,
) -> Path:
    """Download ``url`` to ``path``, resuming an earlier partial download, and return ``path``.

    Bytes go to ``path + ".part"``, which is renamed to ``path`` only when the whole file arrived
    (checked against ``Content-Length``/``Content-Range`` when the server sends them), so ``path``
    never holds an incomplete file. An existing file at ``path`` is replaced. When every attempt
    fails, the ``.part`` file is kept and the next call resumes from it.

    Args:
        url: ``http://`` or ``https://`` URL (other schemes urllib knows, such as ``file://``, are
            fetched whole, without resuming).
        path: destination file; missing parent folders are created.
        progress: show a progress bar with bytes and rate.
        retries: how many times a transient failure is retried before giving up.
        timeout: seconds to wait for the connection and for each read.
        chunk_size: bytes read and written at a time.
        backoff: seconds to wait before the first retry; doubled for every further retry.
        max_backoff: upper bound of the wait between retries.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        DownloadError: the server answered with a permanent error (404, 403, other 4xx), the URL is
            invalid, or all ``retries`` + 1 attempts failed.
        ValueError: an argument is out of range.
    """
    if retries < 0 or timeout <= 0 or chunk_size <= 0 or backoff < 0:
        raise ValueError(
            f"download({url!r}): retries must be >= 0, timeout and chunk_size > 0 and backoff >= 0; "
            f"got retries={retries}, timeout={timeout}, chunk_size={chunk_size}, backoff={backoff}"
        )
    path = Path(path)
    part = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = progress_bar(total=None, desc=path.name, unit="B", enabled=progress)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    requested = url
    try:
        attempt = confirmations = 0
        while True:
            try:
                _attempt(url, part, bar, timeout, chunk_size, opener)
                break
            except _Confirm as page:
                confirmations += 1
                if confirmations > _MAX_CONFIRMATIONS:
                    raise DownloadError(
                        f"{requested}: the server keeps asking to confirm the download; download it in a browser",
                        requested,
                    ) from None
                url = page.url
            except _Transient as exc:
                if attempt >= retries:
                    kept = part.exists() and part.stat().st_size > 0
                    again = f"run again to resume from {part}" if kept else "run again to retry"
                    raise DownloadError(
                        f"{url}: download failed after {attempt + 1} attempt{'s' if attempt else ''}, last: {exc}; {again}",
                        url,
                        exc.status,
                    ) from None
                time.sleep(min(backoff * 2**attempt, max_backoff))
                attempt += 1
    finally:
        bar.close()
    os.replace(part, path)
    return path


def _attempt(url: str, part: Path, bar, timeout: float, chunk_size: int, opener: urllib.request.OpenerDirector) -> None:
    """Fetch what is missing from ``part``; return when it is complete, raise ``_Transient`` if not,
    ``_Confirm`` if the answer was a download confirmation page."""
    offset = part.stat().st_size if part.exists() else 0
    resumable = url.lower().startswith(("http://", "https://"))
    if offset and not resumable:
        _truncate(part)
        offset = 0
    response = _open(url, part, offset, timeout, opener)
    if response is None:  # the .part file was complete already
        return
    with response:
        page = b""
        if resumable and response.headers.get_content_type() == "text/html":
            page = _read_page(response)
            follow = _confirmation(page, response.geturl())
            if follow is not None:
                raise _Confirm(follow)
        status = getattr(response, "status", None) or 200
        length = _int_header(response, "Content-Length")
        if status == 206:
            content_range = response.headers.get("Content-Range")
            start, total = _content_range(content_range)
            if start != offset:
                _truncate(part)
                raise _Transient(
                    f"asked for bytes from {offset}, got Content-Range {content_range!r}; starting over", status
                )
            mode = "ab"
        elif status == 200:
            start, total, mode = 0, length, "wb"  # Range ignored (or not asked for): whole file again
        else:
            raise DownloadError(f"{url}: unexpected HTTP status {status} {response.reason}", url, status)
        if total is None and length is not None:
            total = start + length
        _restart_bar(bar, start, total)
        with open(part, mode) as f:
            f.write(page)  # an HTML answer that is not a confirmation page is the file
            bar.update(len(page))
            received = len(page) + _copy(response, f, bar, chunk_size)
            f.flush()
            os.fsync(f.fileno())
    size = start + received
    if length is not None and received < length:
        raise _Transient(f"connection closed after {size} of {start + length} bytes", status)
    if total is not None and size != total:
        if size > total:
            _truncate(part)
        raise _Transient(f"received {size} bytes but the server announced {total}", status)


def _open(url: str, part: Path, offset: int, timeout: float, opener: urllib.request.OpenerDirector):
    """Request ``url`` from byte ``offset``; return the response, ``None`` if ``part`` is already complete."""
    try:
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"})
        if offset:
            request.add_header("Range", f"bytes={offset}-")
        return opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        status = exc.code
        if status == 416 and offset:  # Range not satisfiable: complete already, or .part is too big
            _, total = _content_range(exc.headers.get("Content-Range"))
            if total == offset:
                return None
            _truncate(part)
            raise _Transient(
                f"HTTP 416: {part.name} does not fit the file on the server; starting over", status
            ) from None
        if status in (408, 429) or status >= 500:
            raise _Transient(f"HTTP {status} {exc.reason}", status) from None
        raise DownloadError(
            f"{url}: server answered HTTP {status} {exc.reason}; check the URL or download the file by hand",
            url,
            status,
        ) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLCertVerificationError):
            raise DownloadError(f"{url}: TLS certificate not trusted ({exc.reason})", url) from None
        if isinstance(exc.reason, str) or not isinstance(exc.reason, OSError):  # e.g. "unknown url type"
            raise DownloadError(f"{url}: cannot download ({exc.reason})", url) from None
        if _unreachable(exc.reason):
            host = urllib.parse.urlsplit(url).hostname or url
            raise DownloadError(
                f"{url}: cannot reach {host} ({_describe(exc.reason)}); check the network connection", url
            ) from None
        raise _Transient(f"cannot connect ({exc.reason})") from None
    except ValueError as exc:  # malformed URL
        raise DownloadError(f"{url}: not a valid URL ({exc})", url) from None
    except (OSError, http.client.HTTPException) as exc:  # reset, timeout, bad status line
        raise _Transient(f"no answer ({_describe(exc)})") from None


def _unreachable(error: OSError) -> bool:
    """Whether retrying in a few seconds cannot help: the name does not resolve (offline, or no such
    host) or there is no route to the network."""
    return isinstance(error, socket.gaierror) or error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH)


def _read_page(response) -> bytes:
    """The start of an HTML answer, enough to hold a confirmation page; network errors are transient."""
    length = _int_header(response, "Content-Length")
    try:
        return response.read(_PAGE_LIMIT if length is None else min(_PAGE_LIMIT, length))
    except (OSError, http.client.HTTPException) as exc:
        raise _Transient(f"connection lost while reading an HTML answer ({_describe(exc)})") from None


class _ConfirmationForms(HTMLParser):
    """Collects the forms (action, method, id, hidden fields) and the links of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, str, dict[str, str]]] = []
        self.links: list[str] = []
        self._fields: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._fields = {}
            self.forms.append(
                (values.get("action", ""), values.get("method", "get").lower(), values.get("id", ""), self._fields)
            )
        elif (
            tag == "input"
            and self._fields is not None
            and values.get("type", "").lower() == "hidden"
            and values.get("name")
        ):
            self._fields[values["name"]] = values.get("value", "")
        elif tag == "a" and values.get("href"):
            self.links.append(values["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None


def _confirmation(page: bytes, base: str) -> str | None:
    """The URL a download confirmation page asks for, or ``None`` if ``page`` is not one.

    Recognised: a GET form with a hidden ``confirm`` field (or the id ``download-form``), and a link
    whose query has ``export=download`` and ``confirm=``. Only http(s) URLs are followed.
    """
    parser = _ConfirmationForms()
    try:
        parser.feed(page.decode("utf-8", errors="replace"))
        parser.close()
    except Exception:  # a page too broken to parse is not a confirmation page
        return None
    candidates = [
        urllib.parse.urljoin(base, action) + "?" + urllib.parse.urlencode(fields)
        for action, method, form_id, fields in parser.forms
        if method == "get" and ("confirm" in fields or form_id == "download-form")
    ]
    for link in parser.links:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
        if "confirm" in query and query.get("export") == ["download"]:
            candidates.append(urllib.parse.urljoin(base, link))
    for candidate in candidates:
        if urllib.parse.urlsplit(candidate).scheme in ("http", "https"):
            return candidate
    return None


def _copy(response, f: IO[bytes], bar, chunk_size: int) -> int:
    """Copy the response body to ``f``; network errors become ``_Transient`` (bytes so far are kept)."""
    received = 0
    # read1 returns what has arrived (up to chunk_size) instead of waiting for a full chunk, so bytes
    # received before a stall or a reset are written and a resume starts after them
    read = getattr(response, "read1", response.read)
    while True:
        try:
            chunk = read(chunk_size)
        except (OSError, http.client.HTTPException) as exc:
            f.flush()
            raise _Transient(f"connection lost after {received} bytes of this attempt ({_describe(exc)})") from None
        if not chunk:
            return received
        f.write(chunk)
        received += len(chunk)
        bar.update(len(chunk))


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """Parse ``bytes START-END/TOTAL`` (or ``bytes */TOTAL``) into (START, TOTAL); unknown parts are None."""
    match = _CONTENT_RANGE.fullmatch((value or "").strip())
    if not match:
        return None, None
    start = int(match.group(1)) if match.group(1) is not None else None
    total = int(match.group(3)) if match.group(3) != "*" else None
    return start, total


def _int_header(response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None


def _restart_bar(bar, start: int, total: int | None) -> None:
    """Show ``start`` bytes as done without counting them in the rate (they arrived earlier)."""
    bar.reset(total=total)
    bar.initial = bar.n = bar.last_print_n = start
    bar.refresh()


def _truncate(part: Path) -> None:
    with open(part, "wb"):
        pass


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
