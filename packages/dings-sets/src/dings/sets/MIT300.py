"""MIT300: the 300 test images of the MIT saliency benchmark (fixations withheld). Catalog entry."""

from __future__ import annotations

from .catalog import DatasetInfo, SourceFile, Split

__all__ = ["INFO"]

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
        SourceFile("BenchmarkIMAGES.zip", url="http://saliency.mit.edu/BenchmarkIMAGES.zip",
                   md5="03ed32bdf5e4289950cd28df89451260"),
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
