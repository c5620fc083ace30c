"""ANP460: eye-tracking on images of adjective-noun pairs (not publicly available). Catalog entry."""

from __future__ import annotations

from .catalog import DatasetInfo, SourceFile, Split

__all__ = ["INFO"]

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
