"""Transform helpers compatible with datadings.torch: Compose, CompressedToPIL, no_rng, dict2tuple."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from io import BytesIO
from typing import Any

from PIL import Image
from PIL.JpegImagePlugin import JpegImageFile

try:  # optional accelerator (the "jpeg" extra): libjpeg-turbo without Pillow's per-image overhead
    from simplejpeg import decode_jpeg as _decode_jpeg
except ImportError:  # pragma: no cover - depends on the installation
    _decode_jpeg = None

__all__ = ["Compose", "CompressedToPIL", "dict2tuple", "no_rng"]

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def no_rng(_: Any) -> dict:
    """An ``rng`` that returns no parameters (the default)."""
    return {}


def _parameters(transform: Callable) -> tuple[tuple[str, bool], ...]:
    """``(name, required)`` of every parameter after the value that ``transform`` accepts by name.

    Raises:
        TypeError: ``transform`` is not callable, or accepts no argument for the value.
    """
    if not callable(transform):
        raise TypeError(f"transform {transform!r} is not callable; pass functions or callable objects")
    try:
        signature = inspect.signature(transform)
    except (TypeError, ValueError):  # some builtins have no signature: they get the value only
        return ()
    params = list(signature.parameters.values())
    if not any(p.kind in _POSITIONAL or p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        raise TypeError(
            f"transform {transform!r} takes no positional argument; it must accept the value as its first argument"
        )
    if params[0].kind in _POSITIONAL:
        params = params[1:]
    named = []
    for p in params:
        if p.kind in _NAMED:
            named.append((p.name, p.default is inspect.Parameter.empty))
        elif p.kind == inspect.Parameter.POSITIONAL_ONLY and p.default is inspect.Parameter.empty:
            raise TypeError(
                f"transform {transform!r}: parameter {p.name!r} is positional-only; wrap it so it can be passed by name"
            )
    return tuple(named)


class Compose:
    """Apply transforms one after another to a value, each with the parameters it names.

    Every transform takes the value as its first argument. Its other parameters are looked up by
    name (with ``prefix`` in front) in the ``params`` dict that the dataset's ``rng(sample)``
    returned; parameters with defaults may be missing from it. Transforms whose signature only has
    ``*args`` (such as ``torch.nn.Module`` instances) receive the value alone.

    Args:
        transforms: the transforms, as arguments or as one list/tuple.
        prefix: prepended to parameter names when looking them up, e.g. ``prefix="mask_"``
            looks up ``size`` as ``"mask_size"``.

    Raises:
        TypeError: a transform is not callable, or takes no argument for the value.

    Example::

        def add(v, number):
            return v + number

        Compose(add)(1, {"number": 2})  # 3
    """

    def __init__(self, *transforms: Callable | Iterable[Callable], prefix: str = "") -> None:
        given: Iterable[Any] = transforms
        if len(transforms) == 1 and not callable(transforms[0]) and isinstance(transforms[0], Iterable):
            given = transforms[0]
        self.transforms: tuple[Callable, ...] = tuple(given)
        self.prefix = prefix
        self._plan = [
            (f, tuple((name, prefix + name, required) for name, required in _parameters(f))) for f in self.transforms
        ]

    def __call__(self, value: Any, params: dict | None = None) -> Any:
        """Return ``value`` passed through every transform.

        Raises:
            KeyError: a transform needs a parameter that ``params`` does not contain (the message
                names it).
        """
        params = {} if params is None else params
        for transform, names in self._plan:
            if not names:  # the common case: the value only, no keyword handling
                value = transform(value)
                continue
            kwargs = {}
            for name, key, required in names:
                if key in params:
                    kwargs[name] = params[key]
                elif required:
                    raise KeyError(
                        f"transform {transform!r} needs parameter {key!r}, which rng(sample) did not return "
                        f"(it returned {sorted(params)}); add it to the rng's dict or bind it with functools.partial"
                    )
            value = transform(value, **kwargs)
        return value

    def __repr__(self) -> str:
        inner = ", ".join(repr(f) for f in self.transforms)
        return f"Compose({inner}{', prefix=' + repr(self.prefix) if self.prefix else ''})"


class CompressedToPIL:
    """Decode compressed image bytes (JPEG, PNG, … anything Pillow reads) to an RGB PIL image.

    JPEG takes a fast path, recognised by its first bytes: with the optional ``simplejpeg``
    package (``pip install "dings-torch[jpeg]"``) it is decoded straight to RGB by libjpeg-turbo,
    which is markedly faster for small images; otherwise Pillow's JPEG decoder opens it directly,
    without probing other formats. Anything else goes through ``PIL.Image.open``.

    Raises (when called):
        ValueError: the bytes are not an image Pillow can read (the message says how many bytes
            and how they start).
    """

    def __call__(self, data: bytes | bytearray | memoryview) -> Image.Image:
        jpeg = data[:3] == b"\xff\xd8\xff"
        if jpeg and _decode_jpeg is not None:
            try:
                pixels = _decode_jpeg(data, colorspace="RGB")
                return Image.frombytes("RGB", (pixels.shape[1], pixels.shape[0]), pixels)  # faster than fromarray
            except ValueError:
                pass  # Pillow decodes what simplejpeg cannot, or explains why not
        try:
            image: Image.Image = JpegImageFile(BytesIO(data)) if jpeg else Image.open(BytesIO(data))
            image.load()
        except (OSError, SyntaxError, ValueError) as exc:
            head = bytes(data[:8])
            raise ValueError(f"cannot decode {len(data)} bytes starting {head!r} as an image: {exc}") from exc
        return image if image.mode == "RGB" else image.convert("RGB")

    def __repr__(self) -> str:
        return "CompressedToPIL()"


def dict2tuple(it: Iterable[dict], keys: Sequence[str] = ("image", "label")) -> Iterator[tuple]:
    """Yield ``tuple(sample[k] for k in keys)`` for each sample (or collated batch) of ``it``.

    Args:
        it: samples or batches as dicts.
        keys: the keys to take, in order.

    Raises:
        KeyError: a sample lacks one of ``keys`` (the message names it and the keys present).
    """
    for sample in it:
        try:
            yield tuple(sample[k] for k in keys)
        except KeyError as exc:
            raise KeyError(f"dict2tuple: sample has no key {exc.args[0]!r} (it has {sorted(sample)})") from None
