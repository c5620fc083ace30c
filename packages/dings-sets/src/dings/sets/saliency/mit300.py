"""MIT300: the 300 test images of the MIT saliency benchmark (fixations withheld). Catalog entry."""

from __future__ import annotations

from typing import Any

from ..builder import Builder
from ..catalog import DatasetInfo, SourceFile, Split
from ..samples import ImageData
from ._gaze import is_clutter, open_zip, read_member

__all__ = ["INFO", "MIT300", "is_image"]

INFO = DatasetInfo(
    name="MIT300",
    aliases=("mit300", "MIT-300", "BenchmarkIMAGES"),
    domain="saliency",
    tasks=("saliency-prediction",),
    tags=("eye-tracking", "benchmark", "test-only", "mit-saliency-benchmark"),
    description=(
        "The 300 natural test images of the MIT saliency benchmark (Judd, Durand and Torralba, 'A "
        "benchmark of computational models of saliency to predict human fixations', 2012). The eye "
        "fixations of 39 viewers are withheld by the benchmark, so samples hold only the image; "
        "predictions are evaluated on the benchmark's server."
    ),
    homepage="http://saliency.mit.edu/",
    sources=(
        SourceFile(
            "BenchmarkIMAGES.zip",
            url="http://saliency.mit.edu/BenchmarkIMAGES.zip",
            md5="03ed32bdf5e4289950cd28df89451260",
        ),
    ),
    splits=(Split("MIT300", 300),),
    sample_keys={"key": "str, the member path BenchmarkIMAGES/i<n>.jpg", "image": "bytes, the original JPEG"},
    common_options=("shuffle",),
    differences=(
        "images are excluded by folder (the SM/ sample maps, __MACOSX/ and ._* resource forks), not by "
        "'SM' appearing anywhere in the path; the real archive gives the same 300 images",
        "--seed makes the shuffled order reproducible",
    ),
    extra="saliency",
    converter="dings.sets.MIT300_write",
)


SPLIT = "MIT300"


def is_image(member: str) -> bool:
    """True for a benchmark image: a ``.jpg`` outside the ``SM`` folder and archive clutter."""
    parts = member.split("/")
    return (
        member.endswith(".jpg") and "SM" not in parts[:-1] and not is_clutter(member) and not parts[0].startswith("__")
    )


class MIT300(Builder):
    """MIT300's converter: one split, the benchmark images without fixations."""

    info = INFO

    def items(self, split: str) -> list[str]:
        """The images of ``BenchmarkIMAGES.zip`` in archive order."""
        self.archive = self.stack.enter_context(open_zip(self.files["BenchmarkIMAGES.zip"], INFO.sources[0].url))
        return [m for m in self.archive.namelist() if is_image(m)]

    def read(self, member: str) -> dict[str, Any]:
        """The sample of one image."""
        return ImageData(member, read_member(self.archive, member))
