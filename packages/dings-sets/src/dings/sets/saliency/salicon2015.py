"""SALICON2015: MS-COCO images with mouse-tracking "fixations", 2015 edition. Catalog entry and converter (no metadata)."""

from __future__ import annotations

from ._salicon import SaliconBuilder, salicon_info

__all__ = ["INFO", "SALICON2015"]

INFO = salicon_info(
    "SALICON2015", 2015, drive_id="0B2hsWbciDVedWHFiMUVVWFRZTE0", md5="9a22db9d718200fb90252e5010c004c4"
)


class SALICON2015(SaliconBuilder):
    """SALICON2015's converter (see :class:`~dings.sets.saliency._salicon.SaliconBuilder`)."""

    info = INFO
