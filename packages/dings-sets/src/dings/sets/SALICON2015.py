"""SALICON2015: MS-COCO images with mouse-tracking "fixations", 2015 edition. Catalog entry (no metadata)."""

from __future__ import annotations

from ._salicon import salicon_info

__all__ = ["INFO"]

INFO = salicon_info("SALICON2015", 2015, drive_id="0B2hsWbciDVedWHFiMUVVWFRZTE0", md5="9a22db9d718200fb90252e5010c004c4")
