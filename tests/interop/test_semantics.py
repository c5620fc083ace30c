"""Readers and augments iterate, seek and step like datadings 3.4.7's, checked side by side with the oracle.

Each scenario runs the same calls on a datadings reader and a dings reader over the same samples and
compares the keys that come out. Shuffled orders differ by design (dings draws them with numpy, see
docs/compatibility.md), so shuffler scenarios compare what a pass contains and when a new order starts.
"""

from __future__ import annotations

import itertools
import warnings
import zipfile

import pytest

datadings = pytest.importorskip("datadings", reason="the oracle datadings==3.4.7 is installed by the hatch test env")

from datadings import reader as dd  # noqa: E402

from dings import readers as ours  # noqa: E402
from dings.format import FileWriter, unpackb  # noqa: E402

N = 12


def samples() -> list[dict]:
    return [{"key": f"k{i:02d}", "i": i} for i in range(N)]


def keys(items) -> list:
    return [s["key"] for s in items]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("semantics") / "data.msgpack"
    with FileWriter(path, progress=False) as writer:
        for sample in samples():
            writer.write(sample)
    return path


def open_pair(kind: str, dataset):
    """The same samples in a datadings reader and a dings reader of the given kind."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "list":
            return dd.ListReader(samples()), ours.ListReader(samples())
        if kind == "msgpack":
            return dd.MsgpackReader(dataset), ours.MsgpackReader(dataset)
        from datadings.reader.sharded import ShardedReader

        return ShardedReader([dd.MsgpackReader(dataset)]), ours.ShardedReader([ours.MsgpackReader(dataset)])


READERS = ["list", "msgpack", "sharded"]


def both(kind, dataset, scenario):
    theirs, mine = open_pair(kind, dataset)
    expected = scenario(theirs)
    assert scenario(mine) == expected
    return expected


# --- readers ---


@pytest.mark.parametrize("kind", READERS)
def test_a_loop_after_seek_starts_at_the_seek_position(kind, dataset):
    def scenario(r):
        r.seek(7)
        return keys(r)

    assert both(kind, dataset, scenario) == [f"k{i:02d}" for i in range(7, N)]


@pytest.mark.parametrize("kind", READERS)
def test_every_epoch_loop_reads_everything_again(kind, dataset):
    def scenario(r):
        return [keys(r.iter()) for _ in range(3)] + [keys(r), keys(r)]

    assert both(kind, dataset, scenario) == [keys(samples())] * 5


@pytest.mark.parametrize("kind", READERS)
def test_a_loop_that_stopped_early_is_continued_by_the_next(kind, dataset):
    def scenario(r):
        first = []
        for sample in r:
            first.append(sample["key"])
            if len(first) == 5:
                break
        return first, keys(r), keys(r)

    first, rest, again = both(kind, dataset, scenario)
    assert first + rest == again == keys(samples())


@pytest.mark.parametrize("kind", READERS)
def test_next_on_the_reader_steps_through_it(kind, dataset):
    def scenario(r):
        stepped = [next(r)["key"] for _ in range(N)]
        with pytest.raises(StopIteration):
            next(r)
        r.seek(3)
        return stepped, r.next()["key"], next(r)["key"]

    assert both(kind, dataset, scenario) == (keys(samples()), "k03", "k04")


@pytest.mark.parametrize("kind", ["list", "zip", "msgpack", "sharded"])
def test_a_reader_is_used_again_after_its_with_block(kind, tmp_path, dataset):
    if kind == "zip":
        path = tmp_path / "a.zip"
        with zipfile.ZipFile(path, "w") as z:
            for name in ("x/1", "x/2", "y/3"):
                z.writestr(name, name.encode())
        pair = dd.ZipFileReader(path), ours.ZipFileReader(path)
    else:
        pair = open_pair(kind, dataset)

    def scenario(r):
        with r:
            first = keys(r)
        with r:
            second = keys(r)
        return first, second, r.get(0)["key"]

    assert scenario(pair[1]) == scenario(pair[0])


def test_zip_members_are_read_in_archive_order(tmp_path):
    path = tmp_path / "unsorted.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name in ("dog/b.jpg", "cat/z.jpg", "cat/a.jpg", "img10/c.jpg", "img2/d.jpg"):
            z.writestr(name, name.encode())
    theirs, mine = dd.ZipFileReader(path), ours.ZipFileReader(path)
    expected = [(s["key"], s["label"], s["data"]) for s in theirs]
    assert [(s["key"], s["label"], s["data"]) for s in mine] == expected
    assert [k for k, _, _ in expected] == ["dog/b.jpg", "cat/z.jpg", "cat/a.jpg", "img10/c.jpg", "img2/d.jpg"]


def test_list_reader_numbers_missing_keys_and_accepts_int_keys():
    given = [{"x": 0}, {"x": 1, "key": 40}, {"x": 2, "key": "named"}, {"x": 3}]

    def scenario(r):
        return keys(r), r.find_index(40), r.find_index(3), r.find_key(0), 0 in r, "0" in r, r.get(1)["key"]

    assert scenario(ours.ListReader(given)) == scenario(dd.ListReader([dict(s) for s in given]))


# --- augments ---


def test_range_iter_takes_yield_key_first():
    theirs, mine = dd.ListReader(samples()), ours.ListReader(samples())
    expected = [(k, s["i"]) for k, s in dd.Range(theirs, 1, 4).iter(True)]
    assert (
        [(k, s["i"]) for k, s in ours.Range(mine, 1, 4).iter(True)] == expected == [("k01", 1), ("k02", 2), ("k03", 3)]
    )
    raw = [unpackb(b)["i"] for b in ours.Range(mine, 1, 4).iter(False, True)]
    assert raw == [unpackb(b)["i"] for b in dd.Range(theirs, 1, 4).iter(False, True)]
    assert [k for k, _ in ours.Range(mine, 1, 4).rawiter(True)] == ["k01", "k02", "k03"]


def test_augment_iter_refuses_a_positional_start_loudly():
    with pytest.raises(TypeError, match="yield_key first, as in datadings; give start= and stop= as keywords"):
        ours.Range(ours.ListReader(samples()), 1, 4).iter(2)
    assert keys(ours.Range(ours.ListReader(samples()), 1, 6).iter(start=2, stop=4)) == ["k03", "k04"]


@pytest.mark.parametrize(("start", "stop"), [(0, None), (3, 8), (2, 100), (5, 2), (-4, None), (0, -3)])
def test_range_bounds_as_datadings(start, stop):
    expected = keys(dd.Range(dd.ListReader(samples()), start, stop))
    assert keys(ours.Range(ours.ListReader(samples()), start, stop)) == expected


@pytest.mark.parametrize("start", [N + 1, -N - 1])
def test_range_start_out_of_range_raises_index_error_as_datadings(start):
    with pytest.raises(IndexError):
        dd.Range(dd.ListReader(samples()), start)
    with pytest.raises(IndexError, match=f"start {start} is out of range"):
        ours.Range(ours.ListReader(samples()), start)


def test_repeater_len_iteration_and_seek_as_datadings():
    def scenario(make):
        repeater = make(3)
        result = [len(repeater), keys(repeater), keys(repeater)]
        repeater.seek(N + 5)
        result.append(keys(repeater))
        return result

    expected = scenario(lambda t: dd.Repeater(dd.ListReader(samples()), t))
    assert scenario(lambda t: ours.Repeater(ours.ListReader(samples()), t)) == expected
    assert expected[0] == N and len(expected[1]) == 3 * N


def test_cycler_cycles_and_seeks_modulo_len_as_datadings():
    def scenario(cycler):
        first = keys(itertools.islice(cycler.iter(), 2 * N + 3))
        cycler.seek(N + 4)
        return len(cycler), first, keys(itertools.islice(cycler.iter(), 5))

    expected = scenario(dd.Cycler(dd.ListReader(samples())))
    assert scenario(ours.Cycler(ours.ListReader(samples()))) == expected


@pytest.mark.parametrize("name", ["Shuffler", "QuasiShuffler"])
def test_shufflers_give_a_new_order_in_every_epoch_loop(name):
    def scenario(shuffler):
        passes = [keys(shuffler) for _ in range(3)] + [keys(shuffler.iter())]
        return (
            len(shuffler),
            all(sorted(p) == [f"k{i:02d}" for i in range(len(shuffler))] for p in passes),
            all(a != b for a, b in zip(passes, passes[1:])),
        )

    def make(module, reader):
        return (
            getattr(module, name)(reader, seed=3) if name == "Shuffler" else getattr(module, name)(reader, 4, 2, seed=3)
        )

    n = 50
    many = [{"key": f"k{i:02d}", "i": i} for i in range(n)]
    expected = scenario(make(dd, dd.ListReader([dict(s) for s in many])))
    assert scenario(make(ours, ours.ListReader(many))) == expected == (n, True, True)


@pytest.mark.parametrize("name", ["Shuffler", "QuasiShuffler"])
def test_an_interrupted_shuffled_pass_is_continued_by_the_next_loop(name):
    def scenario(shuffler):
        first = keys(itertools.islice(shuffler.iter(), 5))
        rest = keys(shuffler.iter())
        return len(first) + len(rest), sorted(first + rest) == keys(samples())

    # datadings hands out the sample it stopped at once more (its position lags one behind): 13 of 12
    theirs = scenario(getattr(dd, name)(dd.ListReader(samples()), seed=1))
    assert theirs[0] in (N, N + 1)
    assert scenario(getattr(ours, name)(ours.ListReader(samples()), seed=1)) == (N, True)


def test_quasi_shuffler_seek_addresses_epoch_and_position_as_datadings():
    def scenario(shuffler):
        shuffler.seek(N + 5)
        rest = keys(shuffler.iter())
        return len(rest), set(rest) <= set(keys(samples())), len(keys(shuffler.iter()))

    expected = scenario(dd.QuasiShuffler(dd.ListReader(samples()), 4, 2, seed=1))
    assert scenario(ours.QuasiShuffler(ours.ListReader(samples()), 4, 2, seed=1)) == expected == (N - 5, True, N)
    with pytest.raises(IndexError):
        ours.QuasiShuffler(ours.ListReader(samples())).seek(-1)


@pytest.mark.parametrize(
    "make",
    [
        lambda m, r: m.Range(r, 2, 9),
        lambda m, r: m.Repeater(r, 2),
        lambda m, r: m.Shuffler(r, seed=5),
        lambda m, r: m.QuasiShuffler(r, 4, 2, seed=5),
    ],
    ids=["Range", "Repeater", "Shuffler", "QuasiShuffler"],
)
def test_augments_enter_as_themselves_and_work_after_their_with_block(make):
    def scenario(module):
        augment = make(module, module.ListReader(samples()))
        with augment as entered:
            first = sorted(keys(entered))
            same = entered is augment
        return same, first, sorted(keys(augment))

    assert scenario(ours) == scenario(dd)


def test_augments_over_an_msgpack_reader_with_an_outer_with_block(dataset):
    def scenario(module):
        with module.MsgpackReader(dataset) as reader:
            # (Range last: datadings' Range moves the shared read position of the reader it wraps)
            return [len(module.Repeater(reader, 4)), keys(module.Repeater(reader, 2)), keys(module.Range(reader, 3, 6))]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = scenario(dd)
    assert scenario(ours) == expected


def test_len_of_a_range_is_its_size_a_deliberate_difference():
    # datadings gives every augment the wrapped reader's len, also a Range (docs/compatibility.md)
    assert len(dd.Range(dd.ListReader(samples()), 2, 9)) == N
    assert len(ours.Range(ours.ListReader(samples()), 2, 9)) == 7


def test_quasi_shuffler_has_datadings_attributes():
    theirs = dd.QuasiShuffler(dd.ListReader(samples()), 4, 2)
    mine = ours.QuasiShuffler(ours.ListReader(samples()), 4, 2)
    assert (mine.chunk_size, mine.num_chunks, len(mine.reader)) == (
        theirs.chunk_size,
        theirs.num_chunks,
        len(theirs.reader),
    )
