"""Build tiny YFCC100m image packs with the real layout: ``<stem>.zip`` holding ``<stem>/<hex name>``."""

from __future__ import annotations

import zipfile
from pathlib import Path

from .places365_fixtures import jpeg

#: pack stem -> image member names in central-directory order
PACKS = {
    "0000000001": ["aa", "ab", "0c"],
    "000000000a": ["ff01", "00", "1234abcd", "beef"],
    "00000000ff": ["01", "02"],
    "0000000b00": ["9"],
}
#: rejected member indices (the 00000000ff pack is rejected entirely)
REJECTED = {"0000000001": [1], "000000000a": [0, 3], "00000000ff": [0, 1]}
COUNTS = [[stem, len(names)] for stem, names in PACKS.items()]


def make_packs(folder: Path) -> dict[str, bytes]:
    """Write the packs into ``folder``; return key -> image bytes of every image (rejected too).

    Each pack also holds its folder entry and a non-image member, which readers must ignore.
    """
    folder.mkdir(parents=True, exist_ok=True)
    images: dict[str, bytes] = {}
    seed = 100
    for stem, names in PACKS.items():
        with zipfile.ZipFile(folder / f"{stem}.zip", "w") as pack:
            pack.writestr(f"{stem}/", b"")
            for number, name in enumerate(names):
                seed += 1
                key = f"{stem}/{name}"
                images[key] = jpeg(seed)
                pack.writestr(key, images[key])
                if number == 0:
                    pack.writestr(f"{stem}/readme.txt", b"not an image")
    return images


def expected_keys() -> list[str]:
    """Keys of the images that are not rejected, in reading order."""
    return [
        f"{stem}/{name}"
        for stem in sorted(PACKS)
        for m, name in enumerate(PACKS[stem])
        if m not in REJECTED.get(stem, [])
    ]
