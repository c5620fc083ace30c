"""A plugin dataset for the registry tests (installed into the test environment by hatch.toml)."""

from dings.sets import DatasetInfo, SourceFile, Split

INFO = DatasetInfo(
    name="TOYSET",
    aliases=("toy",),
    domain="segmentation",
    tasks=("semantic-segmentation",),
    tags=("plugin", "synthetic"),
    description="A tiny synthetic dataset that only exists to test third-party registration.",
    homepage="https://example.invalid/toyset",
    sources=(SourceFile("toy.zip", url="http://127.0.0.1:1/toy.zip", md5=None),),
    splits=(Split("train", 3),),
    sample_keys={"key": "str", "image": "bytes", "label_image": "bytes"},
)
