"""SALICON2017: MS-COCO images with mouse-tracking "fixations", 2017 edition. Catalog entry and converter (no metadata)."""

from __future__ import annotations

from ._salicon import SaliconBuilder, salicon_info

__all__ = ["INFO", "SALICON2017"]

INFO = salicon_info(
    "SALICON2017", 2017, drive_id="0B2hsWbciDVedS1lBZHprdXFoZkU", md5="462b70f4f9e8ea446ac628e46cea8d3d"
)


class SALICON2017(SaliconBuilder):
    """SALICON2017's converter (see :class:`~dings.sets.saliency._salicon.SaliconBuilder`)."""

    info = INFO
