"""Convert FIGRIM Fixation (``Targets.zip``/``Fillers.zip`` + their ``.mat`` files) to
``target.msgpack`` and ``filler.msgpack``.

Run ``python -m dings.sets.FIGRIMFixation_write --help`` or ``dings write FIGRIMFixation --help``.
"""

from __future__ import annotations

import argparse
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dings.tools import loadmat

from .converter import ConversionError, Outputs, run_converter, shuffled
from .extras import require_extra
from .FIGRIMFixation import FIELDS, INFO
from .samples import SaliencyData, SaliencyExperiment

__all__ = ["SPLITS", "convert", "experiments_by_image", "main"]

#: split -> (image zip, .mat file)
SPLITS = {"target": ("Targets.zip", "allImages_release.mat"), "filler": ("Fillers.zip", "allImages_fillers.mat")}


def _as_list(value: Any) -> list[Any]:
    """A MATLAB struct array read with squeezing: one element comes as a dict, none as an empty array."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    if isinstance(value, np.ndarray) and value.size == 0:
        return []
    raise TypeError(type(value).__name__)


def _locations(value: Any, where: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float32)
    if array.size % 2:
        raise ValueError(f"{where}: fixations must be an (n, 2) array of (x, y), got shape {array.shape}")
    return array.reshape(-1, 2)


def experiments_by_image(mat: Path) -> dict[str, list[dict[str, Any]]]:
    """Read ``allImages`` from a FIGRIM ``.mat`` file: image path -> experiments.

    Every participant with fixations gives one experiment per presentation in :data:`FIELDS` order
    (empty presentations included, as (0, 2) arrays).

    Raises:
        ValueError: the file is not a FIGRIM ``.mat`` file (names the file and what is wrong).
    """
    content = loadmat(mat, variable_names=["allImages"])
    if "allImages" not in content:
        raise ValueError(f"{mat}: no variable 'allImages'; is this a FIGRIM allImages_*.mat file?")
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        images = _as_list(content["allImages"])
    except TypeError:
        raise ValueError(f"{mat}: 'allImages' must be a struct array") from None
    for index, image in enumerate(images):
        if not isinstance(image, dict) or "impath" not in image or "userdata" not in image:
            raise ValueError(f"{mat}: allImages({index + 1}) lacks the fields 'impath' and 'userdata'")
        where = f"{mat}: allImages({index + 1}) {image['impath']}"
        try:
            participants = _as_list(image["userdata"])
        except TypeError:
            raise ValueError(f"{where}: 'userdata' must be a struct array") from None
        experiments = []
        for number, participant in enumerate(participants, 1):
            fixations = participant.get("fixations") if isinstance(participant, dict) else None
            if not isinstance(fixations, dict):
                continue  # a participant who did not see this image: empty fields
            for field in FIELDS:
                if field not in fixations:
                    raise ValueError(f"{where}: userdata({number}).fixations lacks the field {field!r}")
                locations = _locations(fixations[field], f"{where}: userdata({number}).fixations.{field}")
                experiments.append(SaliencyExperiment(locations, None))
        found[str(image["impath"])] = experiments
    return found


def _samples(archive: Path, members: list[str], experiments: dict[str, list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    with zipfile.ZipFile(archive) as z:
        for member in members:
            yield SaliencyData(member, z.read(member), experiments[member])


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write the ``target`` and ``filler`` splits (see the module docstring)."""
    require_extra("scipy.io", "saliency", INFO.name)
    for split, (zip_name, mat_name) in SPLITS.items():
        if not outputs.wanted(split):
            continue
        experiments = experiments_by_image(files[mat_name])
        archive = files[zip_name]
        try:
            with zipfile.ZipFile(archive) as z:
                names = z.namelist()
        except zipfile.BadZipFile as exc:
            raise ConversionError(f"{archive}: not a readable zip file ({exc}); download it again") from exc
        members = [n for n in names if n.endswith(".jpg") and n in experiments]
        if not members:
            raise ConversionError(f"{archive}: no image is listed in {files[mat_name].name}; are the files of the same split?")
        if args.shuffle:
            members = shuffled(members, args.seed)
        outputs.write(split, _samples(archive, members, experiments), total=len(members))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
