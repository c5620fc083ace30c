"""ANP460: eye-tracking on images of adjective-noun pairs (not publicly available). Catalog entry."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from ..builder import Builder
from ..catalog import DatasetInfo, SourceFile, Split
from ..converter import ConversionError
from ..samples import ANP460Data, ANP460Experiment

__all__ = ["ANP460", "INFO", "WrangledData", "read_answers", "read_gaze"]

_REQUEST = (
    "not publicly downloadable: ask the dataset's authors (the group behind datadings, "
    "https://gitlab.com/jfolz/datadings) for the file and put it into INDIR unchanged"
)

INFO = DatasetInfo(
    name="ANP460",
    aliases=("anp-460",),
    domain="saliency",
    tasks=("saliency-prediction", "visual-question-answering"),
    tags=("eye-tracking", "fixations", "adjective-noun-pairs", "sentiment", "not-public"),
    description=(
        "Eye-tracking recordings of observers viewing images of adjective-noun pairs (ANPs, e.g. "
        "'happy dog'); each image comes with its ANP and stimulus type, and each observer's "
        "recording with the answer the observer gave and the time taken. The source files are not "
        "public; their layout is known only from datadings' converter: images_original.zip holds "
        "'<n>.jpg' images, wrangled_data.zip holds image_anp_list.json plus, per observer, one "
        "'<n>.txt' gaze table per image and an answer.txt with one line per image."
    ),
    homepage="https://gitlab.com/jfolz/datadings",
    sources=(
        SourceFile("images_original.zip", instructions=_REQUEST),
        SourceFile("wrangled_data.zip", instructions=_REQUEST),
    ),
    splits=(Split("ANP460", None),),
    sample_keys={
        "key": "str, the last two path components of the image, e.g. 'images/1.jpg'",
        "image": "bytes, the original JPEG",
        "experiments": "list of {locations: float32 (N, 2) array of (x, y), map: None, answer: str, "
        "duration: float}; one per observer",
        "anp": "str, the adjective-noun pair",
        "type": "str, the stimulus type",
    },
    common_options=("shuffle",),
    differences=(
        "--shuffle yes/no and --seed: the reference always shuffles, in a different order every run",
        "-y/--no-confirm is honoured (the reference ignores it)",
        "each gaze table is paired with the answer.txt in its own folder when there is one; the "
        "reference pairs the i-th table of an image with the i-th answer.txt of the zip, which shifts "
        "when an observer lacks an image (still the fallback when a folder has no answer.txt)",
        "answers may contain commas (the last field is the duration)",
    ),
    extra="saliency",
    converter="dings.sets.ANP460_write",
)


ANP_LIST = "image_anp_list.json"

ANSWERS = "answer.txt"


def read_gaze(data: bytes, where: str) -> np.ndarray:
    """Parse a gaze table (comma-separated numbers, no header; columns 1 and 2 are x and y).

    Raises:
        ValueError: not such a table (names ``where``).
    """
    try:
        table = np.loadtxt(io.StringIO(data.decode("utf-8")), delimiter=",", ndmin=2, dtype=np.float64)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{where}: not a comma-separated table of numbers ({exc})") from None
    if table.size == 0:
        return np.zeros((0, 2), np.float32)
    if table.shape[1] < 3:
        raise ValueError(f"{where}: needs at least 3 columns (x and y are columns 2 and 3), got {table.shape[1]}")
    return np.ascontiguousarray(table[:, 1:3], dtype=np.float32)


def read_answers(data: bytes, where: str) -> list[tuple[str, float] | None]:
    """Parse an ``answer.txt``: line n = ``<x>,<answer>,<duration>`` for image ``<n>.jpg``.

    Returns one ``(answer, duration)`` per line (``None`` for empty lines).

    Raises:
        ValueError: a line that is not of that form (names ``where`` and the line).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: not UTF-8 text ({exc})") from None
    answers: list[tuple[str, float] | None] = []
    for number, line in enumerate(text.replace("\r", "").split("\n")):
        if not line.strip():
            answers.append(None)
            continue
        fields = line.split(",")
        try:
            if len(fields) < 3:
                raise ValueError("fewer than 3 fields")
            answers.append((",".join(fields[1:-1]), float(fields[-1])))
        except ValueError as exc:
            raise ValueError(f"{where}: line {number + 1} {line!r} is not '<x>,<answer>,<duration>' ({exc})") from None
    return answers


class WrangledData:
    """The content of ``wrangled_data.zip``: the ANP list, gaze tables and answers.

    Args:
        archive: path of ``wrangled_data.zip``.

    Raises:
        ConversionError: the zip is unreadable or has no ``image_anp_list.json``.
    """

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        try:
            with zipfile.ZipFile(archive) as z:
                names = z.namelist()
                lists = [n for n in names if PurePosixPath(n).name == ANP_LIST]
                if not lists:
                    raise ConversionError(f"{archive}: no {ANP_LIST}; is this ANP460's wrangled_data.zip?")
                try:
                    self.anps = json.loads(z.read(lists[0]).decode("utf-8"))
                except ValueError as exc:
                    raise ConversionError(f"{archive}: {lists[0]} is not valid JSON ({exc})") from None
                answer_members = [n for n in names if PurePosixPath(n).name == ANSWERS]
                self.answers = {n: read_answers(z.read(n), f"{archive}: {n}") for n in answer_members}
        except zipfile.BadZipFile as exc:
            raise ConversionError(f"{archive}: not a readable zip file ({exc}); get it again") from exc
        if not isinstance(self.anps, dict):
            raise ConversionError(f"{archive}: {lists[0]} must map image names to [anp, type]")
        self.answer_members = answer_members
        self.answer_by_folder = {str(PurePosixPath(n).parent): n for n in answer_members}
        self.tables: dict[str, list[str]] = {}
        for name in names:
            path = PurePosixPath(name)
            if path.suffix == ".txt" and path.stem.isdigit():
                self.tables.setdefault(path.stem, []).append(name)

    def anp(self, image: str) -> tuple[Any, Any]:
        """``(anp, type)`` of the image called ``image`` (``<n>.jpg``)."""
        entry = self.anps.get(image)
        if not isinstance(entry, list) or len(entry) != 2:
            raise ConversionError(f"{self.archive}: {ANP_LIST} has no [anp, type] for image {image}")
        return entry[0], entry[1]

    def experiments(self, z: zipfile.ZipFile, image: str) -> list[dict[str, Any]]:
        """One experiment per gaze table ``<n>.txt`` of the image ``<n>.jpg`` (zip order)."""
        stem = PurePosixPath(image).stem
        found = []
        for index, member in enumerate(self.tables.get(stem, [])):
            where = f"{self.archive}: {member}"
            answers_member = self.answer_by_folder.get(str(PurePosixPath(member).parent))
            if answers_member is None:  # the reference's pairing: i-th table with the i-th answer.txt
                if index >= len(self.answer_members):
                    raise ConversionError(f"{where}: no {ANSWERS} belongs to this gaze table")
                answers_member = self.answer_members[index]
            answers = self.answers[answers_member]
            line = int(stem)
            entry = answers[line] if line < len(answers) else None
            if entry is None:
                raise ConversionError(f"{self.archive}: {answers_member} has no line {line + 1} for image {image}")
            answer, duration = entry
            found.append(ANP460Experiment(read_gaze(z.read(member), where), None, answer, duration))
        return found


def _samples(images_zip: Path, members: Iterable[str], wrangled: WrangledData) -> Iterator[dict[str, Any]]:
    with zipfile.ZipFile(images_zip) as images, zipfile.ZipFile(wrangled.archive) as data:
        for member in members:
            name = PurePosixPath(member).name
            anp, kind = wrangled.anp(name)
            key = "/".join(PurePosixPath(member).parts[-2:])
            yield ANP460Data(key, images.read(member), wrangled.experiments(data, name), anp, kind)


class ANP460(Builder):
    """ANP460's converter: one split, the ``.jpg`` members of ``images_original.zip`` with the
    experiments and answers of ``wrangled_data.zip``."""

    info = INFO

    def items(self, split: str) -> list[str]:
        """The image members of ``images_original.zip``, in archive order."""
        self.wrangled = WrangledData(self.files["wrangled_data.zip"])
        images_zip = self.files["images_original.zip"]
        try:
            with zipfile.ZipFile(images_zip) as z:
                members = [n for n in z.namelist() if n.endswith(".jpg") and not PurePosixPath(n).name.startswith(".")]
        except zipfile.BadZipFile as exc:
            raise ConversionError(f"{images_zip}: not a readable zip file ({exc}); get it again") from exc
        if not members:
            raise ConversionError(f"{images_zip}: no .jpg images; is this ANP460's images_original.zip?")
        return members

    def samples(self, split: str, results: Iterator[str]) -> Iterator[dict[str, Any]]:
        """Read each member and its experiments."""
        return _samples(self.files["images_original.zip"], results, self.wrangled)
