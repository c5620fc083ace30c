"""Pictures of datasets: a contact sheet of sample images with key and label under each.

Segmentation samples (a ``label_image``) get their label map drawn over the image in colour;
saliency samples get their fixation maps (as a red heat map) and fixation points drawn over it;
numpy-array images of any dtype and value range are scaled to 0-255 for display.

Needs the extra ``image`` (Pillow): ``pip install "dings-tools[image]"``. The module imports without
Pillow; each function imports it when called.

Layout of :func:`contact_sheet` (see :func:`sheet_size`): ``columns`` cells per row, each
``cell_size`` pixels square plus :data:`CAPTION_HEIGHT` pixels of caption, with :data:`PADDING`
pixels around and between cells.
"""

from __future__ import annotations

import colorsys
import io
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dings.format import progress_bar

from .extras import require

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = [
    "CAPTION_HEIGHT",
    "PADDING",
    "contact_sheet",
    "default_index_to_color",
    "overlay_fixations",
    "overlay_labels",
    "preview",
    "sample_picture",
    "sheet_size",
    "to_display_image",
]

#: pixels between cells and around the sheet
PADDING = 4
#: pixels of caption text (two lines) under each cell
CAPTION_HEIGHT = 26
#: keys that hold a sample's image, tried in this order before any other image-like value
IMAGE_KEYS = ("image", "img", "data", "rgb")
#: keys of saliency data at the top level of a sample: fixation points and fixation maps
POINT_KEYS = ("fixations", "locations", "points")
MAP_KEYS = ("fixation_map", "saliency_map", "map")

IndexToColor = Callable[[np.ndarray], np.ndarray]


def _pil(feature: str) -> Any:
    """The ``PIL.Image`` module, or an ImportError naming the extra."""
    return require("PIL.Image", "image", feature)


def default_index_to_color(array: np.ndarray) -> np.ndarray:
    """Colour a label map with a fixed palette: 0 is black, every other label a distinct, bright colour.

    Colours step round the hue circle by the golden ratio, so neighbouring labels differ strongly
    and the same label always gets the same colour.

    Args:
        array: ``H x W`` integer label ids.

    Returns:
        An ``H x W x 3`` uint8 RGB array.
    """
    labels = np.asarray(array)
    if labels.ndim != 2:
        raise ValueError(f"default_index_to_color: need a 2-D label map, got shape {labels.shape}")
    values, inverse = np.unique(labels, return_inverse=True)
    table = np.zeros((len(values), 3), dtype=np.uint8)
    for row, value in enumerate(values.tolist()):
        if value == 0:
            continue
        hue = (value * 0.6180339887) % 1.0
        saturation = 0.65 + 0.35 * ((value * 7) % 3) / 2
        rgb = colorsys.hsv_to_rgb(hue, saturation, 1.0)
        table[row] = [round(c * 255) for c in rgb]
    return table[inverse.reshape(labels.shape)]


def _scale_to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    values = array.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(array.shape, dtype=np.uint8)
    low, high = float(values[finite].min()), float(values[finite].max())
    scaled = np.zeros(values.shape) if high <= low else (np.where(finite, values, low) - low) / (high - low)
    return np.round(scaled * 255).astype(np.uint8)


def to_display_image(value: Any) -> PILImage.Image:
    """Turn an image value of a sample into an RGB Pillow image.

    Encoded bytes are decoded. Arrays (``H x W``, ``H x W x C`` or channel-first ``C x H x W``
    with 1, 3 or 4 channels) are scaled for display: uint8 stays as it is, bool becomes 0/255,
    every other dtype is stretched from its minimum to its maximum.

    Args:
        value: encoded image bytes, a numpy array, or a Pillow image.

    Raises:
        ValueError: the bytes are not an image, or the array does not have an image's shape.
    """
    Image = _pil("to_display_image")
    if isinstance(value, Image.Image):
        return value.convert("RGB")
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            image = Image.open(io.BytesIO(bytes(value)))
            image.load()
        except OSError as exc:
            raise ValueError(f"cannot decode image data ({len(value)} bytes): {exc}") from None
        if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
            return to_display_image(np.array(image))
        return image.convert("RGB")
    if not isinstance(value, np.ndarray):
        raise ValueError(f"cannot show a {type(value).__name__} as an image")
    array = value
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[2] not in (1, 3, 4):
        array = np.moveaxis(array, 0, -1)  # channel-first (as in torch) to channel-last
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or array.dtype.kind not in "biuf":
        raise ValueError(f"cannot show a {array.dtype} array of shape {array.shape} as an image")
    if array.size == 0:
        raise ValueError(f"cannot show an empty array of shape {array.shape} as an image")
    pixels = np.ascontiguousarray(_scale_to_uint8(array))
    return Image.fromarray(pixels).convert("RGB")


def _label_array(value: Any) -> np.ndarray:
    if isinstance(value, (bytes, bytearray, memoryview)):
        from .image import decode_label_map

        return decode_label_map(bytes(value))
    array = np.asarray(value)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim != 2 or array.dtype.kind not in "biu":
        raise ValueError(f"a label map must be a 2-D integer array or PNG bytes, got {array.dtype} {array.shape}")
    return array


def overlay_labels(
    image: PILImage.Image,
    labels: Any,
    index_to_color: IndexToColor | None = None,
    alpha: float = 0.5,
) -> PILImage.Image:
    """Draw a segmentation label map over ``image`` in colour.

    Args:
        image: the picture (any mode; the result is RGB).
        labels: ``H x W`` integer label ids, or PNG bytes of a label map.
        index_to_color: label map → ``H x W x 3`` uint8 colours, e.g. a dataset module's
            ``index_to_color``; ``None`` uses :func:`default_index_to_color`.
        alpha: weight of the colours, 0 (invisible) to 1 (opaque).

    Returns:
        A new RGB image of ``image``'s size (the label map is resized to it, nearest neighbour).
    """
    Image = _pil("overlay_labels")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    colours = np.asarray((index_to_color or default_index_to_color)(_label_array(labels)))
    if colours.ndim != 3 or colours.shape[2] < 3:
        raise ValueError(f"index_to_color must return an H x W x 3 array, got shape {colours.shape}")
    layer = Image.fromarray(np.ascontiguousarray(colours[..., :3], dtype=np.uint8)).convert("RGB")
    base = image.convert("RGB")
    if layer.size != base.size:
        layer = layer.resize(base.size, getattr(Image, "Resampling", Image).NEAREST)
    return Image.blend(base, layer, alpha)


def _points(value: Any) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64) if not isinstance(value, np.ndarray) else value.astype(np.float64)
    if array.size == 0:
        return np.zeros((0, 2))
    if array.ndim != 2 or array.shape[1] < 2:
        raise ValueError(f"fixation points must be an N x 2 array of (x, y), got shape {array.shape}")
    return array[:, :2]


def overlay_fixations(
    image: PILImage.Image,
    points: Any = None,
    fixation_map: Any = None,
    alpha: float = 0.6,
    color: tuple[int, int, int] = (255, 0, 0),
) -> PILImage.Image:
    """Draw saliency data over ``image``: a fixation map as a heat map and fixation points as dots.

    Args:
        image: the picture.
        points: ``N x 2`` fixation points as (x, y) pixel coordinates of the image (more columns,
            such as timestamps, are ignored), or ``None``.
        fixation_map: ``H x W`` array (any numeric dtype) or encoded image bytes; scaled to 0-1,
            resized to the image; ``None`` for none.
        alpha: strength of the heat map where the map is at its maximum.
        color: colour of the heat map and the dots.

    Returns:
        A new RGB image of ``image``'s size.
    """
    Image = _pil("overlay_fixations")
    from PIL import ImageDraw

    result = image.convert("RGB")
    if fixation_map is not None:
        heat = to_display_image(fixation_map).convert("L")
        if heat.size != result.size:
            heat = heat.resize(result.size, getattr(Image, "Resampling", Image).BILINEAR)
        weight = np.asarray(heat, dtype=np.float64)[..., None] / 255.0 * alpha
        pixels = np.asarray(result, dtype=np.float64)
        blended = pixels * (1 - weight) + np.array(color, dtype=np.float64) * weight
        result = Image.fromarray(np.round(blended).astype(np.uint8))
    if points is not None:
        draw = ImageDraw.Draw(result)
        radius = max(1.5, min(result.size) / 80)
        for x, y in _points(points).tolist():
            if math.isfinite(x) and math.isfinite(y):
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=color, outline=(255, 255, 255))
    return result


def _find_image(sample: Mapping[str, Any], image_key: str | None) -> Any:
    if image_key is not None:
        if image_key not in sample:
            raise KeyError(
                f"sample {sample.get('key')!r} has no key {image_key!r}; it has {', '.join(map(str, sample))}"
            )
        return sample[image_key]
    from .render import sniff_image

    for key in IMAGE_KEYS:
        value = sample.get(key)
        if isinstance(value, (bytes, bytearray, memoryview)) and sniff_image(value) is not None:
            return value
        if isinstance(value, np.ndarray) and value.ndim in (2, 3):
            return value
    for key, value in sample.items():
        if key in ("label_image", *MAP_KEYS):
            continue
        if isinstance(value, (bytes, bytearray, memoryview)) and sniff_image(value) is not None:
            return value
    return None


def sample_picture(
    sample: Mapping[str, Any],
    index_to_color: IndexToColor | None = None,
    *,
    image_key: str | None = None,
) -> PILImage.Image | None:
    """The picture of one sample, with its segmentation or saliency data drawn over it.

    The image is ``image_key`` if given, else the first of :data:`IMAGE_KEYS` that holds an
    image, else the first bytes value that is an encoded image. A ``label_image`` is overlaid
    with :func:`overlay_labels`; saliency data (``experiments`` with ``locations`` and ``map``,
    or top-level :data:`POINT_KEYS`/:data:`MAP_KEYS`) with :func:`overlay_fixations`.

    Args:
        sample: a decoded sample.
        index_to_color: colours for ``label_image`` (``None``: :func:`default_index_to_color`).
        image_key: the key that holds the image.

    Returns:
        An RGB image, or ``None`` when the sample has no image.
    """
    value = _find_image(sample, image_key)
    if value is None:
        return None
    picture = to_display_image(value)
    if sample.get("label_image") is not None:
        picture = overlay_labels(picture, sample["label_image"], index_to_color)
    points: list[np.ndarray] = []
    maps: list[Any] = []
    experiments = sample.get("experiments")
    if isinstance(experiments, list):
        for experiment in experiments:
            if isinstance(experiment, Mapping):
                if experiment.get("locations") is not None:
                    points.append(_points(experiment["locations"]))
                if experiment.get("map") is not None:
                    maps.append(experiment["map"])
    points.extend(_points(sample[k]) for k in POINT_KEYS if sample.get(k) is not None)
    maps.extend(sample[k] for k in MAP_KEYS if sample.get(k) is not None)
    if maps:
        picture = overlay_fixations(picture, fixation_map=maps[0])
    if points:
        picture = overlay_fixations(picture, points=np.concatenate(points))
    return picture


def sheet_size(count: int, columns: int, cell_size: int) -> tuple[int, int]:
    """Width and height in pixels of a contact sheet of ``count`` cells in ``columns`` columns.

    ``width = columns * (cell_size + PADDING) + PADDING`` (fewer columns when ``count`` is
    smaller) and ``height = rows * (cell_size + CAPTION_HEIGHT + PADDING) + PADDING``.
    """
    columns = max(1, min(columns, count))
    rows = max(1, math.ceil(count / columns))
    return columns * (cell_size + PADDING) + PADDING, rows * (cell_size + CAPTION_HEIGHT + PADDING) + PADDING


def _caption(sample: Mapping[str, Any]) -> list[str]:
    lines = [str(sample.get("key", "?"))]
    if "label" in sample:
        label = sample["label"]
        label = label.item() if isinstance(label, np.generic) else label
        name = sample.get("label_name", sample.get("_label"))
        lines.append(f"label {label}" + (f" ({name})" if name is not None and str(name) != str(label) else ""))
    return lines


def _fit(draw: Any, text: str, font: Any, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def contact_sheet(
    samples: Iterable[Mapping[str, Any]],
    columns: int | None = None,
    cell_size: int = 128,
    index_to_color: IndexToColor | None = None,
    *,
    image_key: str | None = None,
) -> PILImage.Image:
    """Draw samples as a grid of pictures (see :func:`sample_picture`) with key and label under each.

    Samples without an image get an empty cell that says so. The size is :func:`sheet_size`.

    Args:
        samples: decoded samples (at least one).
        columns: cells per row; ``None`` makes the grid about square.
        cell_size: width and height of a cell in pixels; pictures are shrunk (or enlarged) to fit,
            keeping their aspect ratio.
        index_to_color: colours for segmentation label maps.
        image_key: the key that holds the image (default: found per sample).

    Raises:
        ValueError: no samples, or ``columns``/``cell_size`` below 1.
    """
    Image = _pil("contact_sheet")
    from PIL import ImageDraw, ImageFont

    items = list(samples)
    if not items:
        raise ValueError("contact_sheet: no samples to draw")
    if cell_size < 1 or (columns is not None and columns < 1):
        raise ValueError(f"contact_sheet: columns and cell_size must be at least 1, got {columns} and {cell_size}")
    columns = columns or math.ceil(math.sqrt(len(items)))
    columns = min(columns, len(items))
    sheet = Image.new("RGB", sheet_size(len(items), columns, cell_size), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for number, sample in enumerate(items):
        row, column = divmod(number, columns)
        left = PADDING + column * (cell_size + PADDING)
        top = PADDING + row * (cell_size + CAPTION_HEIGHT + PADDING)
        draw.rectangle([left, top, left + cell_size - 1, top + cell_size - 1], fill=(230, 230, 230))
        picture = sample_picture(sample, index_to_color, image_key=image_key)
        if picture is None:
            draw.text((left + 4, top + cell_size // 2 - 6), "no image", fill=(120, 120, 120), font=font)
        else:
            scale = cell_size / max(picture.size)
            size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
            resample = getattr(Image, "Resampling", Image)
            picture = picture.resize(size, resample.NEAREST if scale > 1 else resample.LANCZOS)
            sheet.paste(picture, (left + (cell_size - size[0]) // 2, top + (cell_size - size[1]) // 2))
        for line, text in enumerate(_caption(sample)):
            draw.text(
                (left, top + cell_size + 1 + line * 12), _fit(draw, text, font, cell_size), fill=(0, 0, 0), font=font
            )
    return sheet


def _with_label_name(sample: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    label = sample.get("label")
    if (
        "label_name" in sample
        or isinstance(label, bool)
        or not isinstance(label, (int, np.integer))
        or not 0 <= label < len(names)
    ):
        return sample
    return {**sample, "label_name": names[int(label)]}


def preview(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    outfile: str | os.PathLike,
    count: int = 16,
    *,
    keys: Sequence[str] | None = None,
    columns: int | None = None,
    cell_size: int = 128,
    index_to_color: IndexToColor | None = None,
    image_key: str | None = None,
    random: bool = False,
    seed: int | None = None,
    overwrite: bool = False,
    progress: bool | None = True,
) -> Path:
    """Write a contact sheet (PNG) of ``count`` samples (the first, or random ones), or of the samples ``keys``.

    Args:
        path: the dataset (``NAME.msgpack`` or any of its index files).
        outfile: the PNG to write; written to ``outfile.part`` and renamed when complete.
        count: number of samples (ignored when ``keys`` is given).
        keys: keys of the samples to show, in this order.
        columns: cells per row; ``None`` for an about square grid.
        cell_size: cell width and height in pixels.
        index_to_color: colours for segmentation label maps, e.g. a dataset module's
            ``index_to_color`` (``None``: :func:`default_index_to_color`).
        image_key: the key that holds the image (default: found per sample).
        random: show ``count`` samples drawn at random (in dataset order) instead of the first ones,
            e.g. to see every class of a dataset sorted by class.
        seed: seed of the random draw (``None``: a fixed default, so runs repeat).
        overwrite: replace an existing ``outfile``; otherwise ``FileExistsError``.
        progress: show a progress bar while reading samples.

    Returns:
        The path written.

    Raises:
        FileNotFoundError: the dataset or its index is missing.
        FileExistsError: ``outfile`` exists and ``overwrite`` is false.
        KeyError: a key of ``keys`` is not in the dataset.
        ValueError: ``count`` below 1, the dataset is empty, or no selected sample has an image.
    """
    from ._dataset import input_label_names, open_reader

    _pil("preview")
    target = Path(outfile)
    if target.is_dir():
        raise IsADirectoryError(f"{target}: is a directory; give the path of a .png file to write")
    if target.exists() and not overwrite:
        raise FileExistsError(
            f"{target}: exists; pass overwrite=True (-y/--no-confirm on the command line) to replace it"
        )
    if keys is None and count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    reader, _ = open_reader(path)
    with reader:
        if keys is not None:
            indices = []
            for key in keys:
                try:
                    indices.append(reader.find_index(key))
                except KeyError:
                    raise KeyError(f"{path}: has no sample with key {key!r}; check the spelling of the key") from None
        elif random:
            from ._dataset import as_seed

            chosen = np.random.default_rng(as_seed(seed)).choice(len(reader), min(count, len(reader)), replace=False)
            indices = sorted(int(i) for i in chosen)
        else:
            indices = list(range(min(count, len(reader))))
        if not indices:
            raise ValueError(f"{path}: has no samples to show")
        bar = progress_bar(indices, total=len(indices), desc=f"preview {target.name}", unit="samples", enabled=progress)
        samples = [reader.get(i) for i in bar]
        bar.close()
    names = input_label_names(path)
    if names is not None:  # show the names recorded next to the data (NAME.msgpack.labels.json)
        samples = [_with_label_name(s, names) for s in samples]
    if all(_find_image(s, image_key) is None for s in samples):
        raise ValueError(
            f"{path}: none of the {len(samples)} samples holds an image (bytes of an image or an image-shaped array)"
        )
    sheet = contact_sheet(samples, columns, cell_size, index_to_color, image_key=image_key)
    part = target.with_name(target.name + ".part")
    try:
        sheet.save(part, format="PNG")
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return target
