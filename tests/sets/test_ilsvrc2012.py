"""ILSVRC2012_write and the shared ImageNet image check: labels, kept and re-encoded images, failures."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from dings.readers import MsgpackReader
from dings.sets import ILSVRC2012_synsets, ILSVRC2012_write, get
from dings.sets.classification._imagenet import TARGET_SIZE, UndecodableImageError, check_image

from .imagenet_fixtures import gzipped, jpeg, make_ilsvrc2012, picture, png, tar_bytes, write_tar


def convert(indir, outdir, *extra):
    return ILSVRC2012_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return list(reader)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def tables(quality: int) -> dict:
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "JPEG", quality=quality)
    return Image.open(out).quantization


def assert_jpeg(data: bytes, size, quality: int, sampling: int, mode: str = "RGB") -> Image.Image:
    image = opened(data)
    assert (image.format, image.mode, image.size) == ("JPEG", mode, size)
    if mode == "RGB":
        assert image.quantization == tables(quality)
        assert JpegImagePlugin.get_sampling(image) == sampling
    else:  # a grayscale JPEG has only the luma table
        assert image.quantization == {0: tables(quality)[0]}
    return image


def test_every_sample_is_labelled_and_only_cmyk_and_non_jpeg_images_are_re_encoded(tmp_path):
    expected = make_ilsvrc2012(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out")
    assert [p.name for p in outputs.written] == ["train.msgpack", "val.msgpack"]
    for split in ("train", "val"):
        samples = read(tmp_path / "out" / f"{split}.msgpack")
        assert [(s["key"], s["label"]) for s in samples] == [(k, label) for k, _, label in expected[split]]
        assert all(set(s) == {"key", "image", "label"} for s in samples)
        assert MsgpackReader(tmp_path / "out" / f"{split}.msgpack").verify_data()
    train = {s["key"]: s["image"] for s in read(tmp_path / "out" / "train.msgpack")}
    originals = {k: data for k, data, _ in expected["train"]}
    # readable RGB and grayscale JPEGs are kept byte for byte
    assert train["n01440764_10026.JPEG"] == originals["n01440764_10026.JPEG"]
    assert train["n01443537_8.JPEG"] == originals["n01443537_8.JPEG"]
    # the PNG named .JPEG becomes an RGB JPEG of quality 98, 4:4:4 (a small image), same pixels
    image = assert_jpeg(train["n01440764_2933.JPEG"], (12, 16), 98, 0)
    assert np.abs(np.asarray(image, dtype=int) - picture(12, 16, 2)).mean() < 4
    # the CMYK JPEG becomes RGB, quality 98, 4:4:4, with the colours of the CMYK original
    image = assert_jpeg(train["n01443537_7.JPEG"], (20, 20), 98, 0)
    reference = np.asarray(opened(originals["n01443537_7.JPEG"]).convert("RGB"), dtype=int)
    assert np.abs(np.asarray(image, dtype=int) - reference).mean() < 4
    val = read(tmp_path / "out" / "val.msgpack")
    assert [s["image"] for s in val] == [data for _, data, _ in expected["val"]]


def test_compress_re_encodes_large_images_shrinks_the_largest_and_threads_do_not_change_output(tmp_path):
    indir = tmp_path / "in"
    big, portrait, medium, small = jpeg(1400, 1050, 1), jpeg(1050, 1400, 2), jpeg(600, 450, 3), jpeg(16, 12, 4)
    write_tar(
        indir / "ILSVRC2012_img_train.tar",
        [
            (
                "n01440764.tar",
                tar_bytes(
                    [
                        ("n01440764_1.JPEG", big),
                        ("n01440764_2.JPEG", portrait),
                        ("n01440764_3.JPEG", medium),
                        ("n01440764_4.JPEG", small),
                    ]
                ),
            )
        ],
    )
    write_tar(indir / "ILSVRC2012_img_val.tar", [("ILSVRC2012_val_00000001.JPEG", jpeg(560, 400, 5))])
    convert(indir, tmp_path / "one", "--compress", "-t", "1")
    convert(indir, tmp_path / "two", "--compress", "-t", "2")
    for split in ("train", "val"):
        assert (tmp_path / "one" / f"{split}.msgpack").read_bytes() == (
            tmp_path / "two" / f"{split}.msgpack"
        ).read_bytes()
    images = [s["image"] for s in read(tmp_path / "one" / "train.msgpack")]
    # 1400x1050 decodes at 1/2 (700x525, more than 1.5 T values) -> long side 500; quality 85, 4:2:2
    assert_jpeg(images[0], (500, 375), 85, 1)
    assert_jpeg(images[1], (375, 500), 85, 1)
    # 600x450 has between T/2 and 1.5 T values: re-encoded at its size
    assert_jpeg(images[2], (600, 450), 85, 1)
    assert images[3] == small  # at most T/2 values: kept
    val = read(tmp_path / "one" / "val.msgpack")
    assert_jpeg(val[0]["image"], (560, 400), 85, 1)


def test_compress_quality_and_subsampling_rules():
    large = jpeg(1400, 1050, 7)
    assert_jpeg(check_image(large, compress=60, subsampling="420"), (500, 375), 60, 2)
    assert_jpeg(check_image(large, compress=60, subsampling="444"), (500, 375), 60, 0)
    assert_jpeg(check_image(large, compress=60, subsampling="Gray"), (500, 375), 60, 0, mode="L")
    # quality 0 is libjpeg's 1
    assert opened(check_image(large, compress=0)).quantization == tables(1)
    # a large CMYK image without --compress: quality 98, 4:4:4, shrunk all the same
    assert_jpeg(check_image(jpeg(1400, 1050, 8, mode="CMYK")), (500, 375), 98, 0)
    # a large non-JPEG without --compress: quality 98 and the --subsampling value
    assert_jpeg(check_image(png(600, 450, 9), subsampling="420"), (600, 450), 98, 2)
    # a small image with --compress and 4:2:0 is kept when it is a JPEG, re-encoded 4:4:4 when not
    small = jpeg(32, 24, 10)
    assert check_image(small, compress=50, subsampling="420") == small
    assert_jpeg(check_image(png(32, 24, 10), compress=50, subsampling="420"), (32, 24), 50, 0)
    assert 600 * 450 * 3 > TARGET_SIZE / 2 and 32 * 24 * 3 <= TARGET_SIZE / 2


def test_gzipped_images_are_unpacked_and_garbage_is_undecodable():
    original = jpeg(16, 12, 11)
    assert check_image(gzipped(original)) == original
    assert_jpeg(check_image(gzipped(png(16, 12, 11))), (16, 12), 98, 0)
    with pytest.raises(UndecodableImageError, match=r"not a readable image \(9 bytes, starting 6e6f7420\)"):
        check_image(b"not image")
    with pytest.raises(UndecodableImageError):
        check_image(gzipped(b"still not an image"))
    with pytest.raises(UndecodableImageError):
        check_image(original[: len(original) // 2])  # a truncated JPEG
    with pytest.raises(ValueError, match="subsampling must be one of 444, 422, 420, Gray"):
        check_image(original, subsampling="411")


def test_an_undecodable_image_stops_the_conversion_and_leaves_no_output(tmp_path):
    indir = tmp_path / "in"
    write_tar(
        indir / "ILSVRC2012_img_train.tar",
        [("n01440764.tar", tar_bytes([("n01440764_1.JPEG", jpeg()), ("n01440764_2.JPEG", b"\xff\xd8garbage")]))],
    )
    write_tar(indir / "ILSVRC2012_img_val.tar", [("ILSVRC2012_val_00000001.JPEG", jpeg())])
    with pytest.raises(
        ValueError, match=r"ILSVRC2012_img_train.tar:n01440764.tar: image n01440764_2.JPEG cannot be decoded"
    ):
        convert(indir, tmp_path / "out")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


@pytest.mark.parametrize(
    "member, message",
    [
        ("n99999999.tar", r"member n99999999.tar is not <wnid>.tar of one of the 1000 ILSVRC2012 classes"),
        ("readme.txt", r"member readme.txt is not <wnid>.tar"),
    ],
)
def test_a_foreign_training_archive_is_refused(tmp_path, member, message):
    indir = tmp_path / "in"
    write_tar(indir / "ILSVRC2012_img_train.tar", [(member, tar_bytes([("x.JPEG", jpeg())]))])
    write_tar(indir / "ILSVRC2012_img_val.tar", [("ILSVRC2012_val_00000001.JPEG", jpeg())])
    with pytest.raises(ValueError, match=message):
        convert(indir, tmp_path / "out")
    assert not (tmp_path / "out" / "train.msgpack").exists()


def test_unlabelled_validation_file_and_damaged_inner_tar_fail_clearly(tmp_path):
    indir = tmp_path / "in"
    write_tar(indir / "ILSVRC2012_img_train.tar", [("n01440764.tar", tar_bytes([("n01440764_1.JPEG", jpeg())]))])
    write_tar(indir / "ILSVRC2012_img_val.tar", [("ILSVRC2012_test_00000001.JPEG", jpeg())])
    with pytest.raises(
        ValueError, match=r"member ILSVRC2012_test_00000001.JPEG has no label in the validation ground truth"
    ):
        convert(indir, tmp_path / "out")
    assert (tmp_path / "out" / "train.msgpack").exists() and not (tmp_path / "out" / "val.msgpack").exists()
    write_tar(indir / "ILSVRC2012_img_train.tar", [("n01440764.tar", b"\x01" * 700)])
    with pytest.raises(ValueError, match=r"ILSVRC2012_img_train.tar:n01440764.tar: not a readable tar"):
        convert(indir, tmp_path / "out2")


def test_bad_compress_value_is_an_argument_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        convert(tmp_path, tmp_path / "out", "--compress", "101")
    assert "expected a JPEG quality from 0 to 100, got 101" in capsys.readouterr().err


def test_synsets_and_validation_labels_come_from_the_shipped_files():
    assert len(ILSVRC2012_synsets.SYNSET_LIST) == 1000
    assert ILSVRC2012_synsets.SYNSET_LIST[0] == "n01440764" and ILSVRC2012_synsets.SYNSET_LIST[-1] == "n15075141"
    assert ILSVRC2012_synsets.SYNSET_LIST == sorted(ILSVRC2012_synsets.SYNSET_LIST)
    assert ILSVRC2012_synsets.SYNSET_WORDS["n01440764"] == "tench, Tinca tinca"
    assert ILSVRC2012_synsets.SYNSETS["n01443537"] == 1 and ILSVRC2012_synsets.SYNSETS["n15075141"] == 999
    labels = ILSVRC2012_synsets.val_labels()
    assert len(labels) == 50_000 and labels["ILSVRC2012_val_00000001.JPEG"] == 65
    assert labels["ILSVRC2012_val_00000002.JPEG"] == 970 and set(labels.values()) == set(range(1000))
    reference = pytest.importorskip("datadings.sets.ILSVRC2012_synsets")
    assert ILSVRC2012_synsets.SYNSET_LIST == list(reference.SYNSET_LIST)
    assert ILSVRC2012_synsets.SYNSET_WORDS == dict(reference.SYNSET_WORDS)
    info = get("ImageNet")
    assert info.name == "ILSVRC2012" and [s.samples for s in info.splits] == [1_281_167, 50_000]
    assert all(s.manual for s in info.sources)
