"""FIGRIM Fixation: eye fixations on 630 target and up to 2,157 filler scene images. Catalog entry.

The dataset has no metadata beyond its catalog entry (no classes; samples carry fixations).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from dings.tools import loadmat

from ..builder import Builder
from ..catalog import DatasetInfo, SourceFile, Split
from ..converter import ConversionError
from ..extras import require_extra
from ..samples import SaliencyData, SaliencyExperiment

__all__ = ["FIELDS", "INFO", "SPLITS", "FIGRIMFixation", "experiments_by_image"]

#: the presentations of an image whose fixations become experiments, in this order
FIELDS = ("enc", "rec", "rec2")

INFO = DatasetInfo(
    name="FIGRIMFixation",
    aliases=("FIGRIM", "figrim-fixation"),
    domain="saliency",
    tasks=("saliency-prediction", "fixation-prediction"),
    tags=("eye-tracking", "fixations", "memorability", "scenes", "SUN"),
    description=(
        "Eye fixations recorded during the FIGRIM memorability experiment (Bylinskii et al., 2015): "
        "SUN scene images of 21 categories, 630 targets and up to 2,157 fillers (those present in both "
        "the zip and the .mat file). Every participant who saw an image gives three experiments, the "
        "fixations of the encoding presentation and of the first and second recognition presentation "
        "('enc', 'rec', 'rec2'; empty for fillers and for presentations that did not happen). "
        "Points are (x, y) pixel positions as recorded (MATLAB, 1-based)."
    ),
    homepage="http://figrim.mit.edu/index_eyetracking.html",
    sources=(
        SourceFile("Targets.zip", url="http://figrim.mit.edu/Targets.zip", md5="2ad3a42ebc377efe4b39064405568201"),
        SourceFile(
            "allImages_release.mat",
            url="https://github.com/cvzoya/figrim/raw/master/targetData/allImages_release.mat",
            md5="c72843b05e95ab27594c1d11c849c897",
            size=3_249_502,
        ),
        SourceFile("Fillers.zip", url="http://figrim.mit.edu/Fillers.zip", md5="dc0bc9561b5bc90e158ec32074dd1060"),
        SourceFile(
            "allImages_fillers.mat",
            url="https://github.com/cvzoya/figrim/raw/master/fillerData/allImages_fillers.mat",
            md5="ce4f8b4961005d62f7a21191a64cab5e",
            size=3_655_090,
        ),
    ),
    splits=(Split("target", 630), Split("filler", None)),
    sample_keys={
        "key": "str, the zip member, e.g. 'Targets/airport_terminal/sun_awmodvmqonpeudqi.jpg'",
        "image": "bytes, the original JPEG",
        "experiments": "list of {locations: float32 (N, 2) array of (x, y), map: None}; "
        "3 per participant (enc, rec, rec2)",
    },
    common_options=("shuffle",),
    differences=(
        "fields of the .mat structs are found by name (impath, userdata, fixations, enc/rec/rec2), not by position",
        "empty presentations are float32 arrays of shape (0, 2), not (0, 0), so locations[:, 0] "
        "and locations[:, 1] work for every experiment",
        "--seed makes the shuffled order reproducible",
    ),
    extra="saliency",
    converter="dings.sets.FIGRIMFixation_write",
)


#: split -> (image zip, .mat file)
SPLITS = {
    "target": ("Targets.zip", "allImages_release.mat"),
    "filler": ("Fillers.zip", "allImages_fillers.mat"),
}


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


def _samples(
    archive: Path, members: Iterable[str], experiments: dict[str, list[dict[str, Any]]]
) -> Iterator[dict[str, Any]]:
    with zipfile.ZipFile(archive) as z:
        for member in members:
            yield SaliencyData(member, z.read(member), experiments[member])


class FIGRIMFixation(Builder):
    """FIGRIMFixation's converter: the ``target`` and ``filler`` images listed in their ``.mat`` files."""

    info = INFO

    def open(self) -> None:
        """Check that scipy is there before anything is read."""
        require_extra("scipy.io", "saliency", INFO.name)

    def items(self, split: str) -> list[str]:
        """The images of the split's zip that its ``.mat`` file lists, in archive order."""
        zip_name, mat_name = SPLITS[split]
        self.experiments = experiments_by_image(self.files[mat_name])
        archive = self.files[zip_name]
        try:
            with zipfile.ZipFile(archive) as z:
                names = z.namelist()
        except zipfile.BadZipFile as exc:
            raise ConversionError(f"{archive}: not a readable zip file ({exc}); download it again") from exc
        members = [n for n in names if n.endswith(".jpg") and n in self.experiments]
        if not members:
            raise ConversionError(
                f"{archive}: no image is listed in {self.files[mat_name].name}; are the files of the same split?"
            )
        return members

    def samples(self, split: str, results: Iterator[str]) -> Iterator[dict[str, Any]]:
        """Each image with its experiments."""
        return _samples(self.files[SPLITS[split][0]], results, self.experiments)
