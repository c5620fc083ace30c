"""Key hashes and the salt retry: dings chooses, stores and uses salts exactly like datadings 3.4.

FORMAT.md: the salt is the first 8 bytes of ``blake2s(str(i))`` for the smallest ``i`` that makes
all 64-bit salted key hashes distinct (give up after 1000 tries). A retry needs two keys whose
salt-0 hashes collide, which cannot be constructed here (see the comment below), so the retry path
is covered piecewise without patching datadings: both implementations hash identically with every
salt a retry can pick, both readers honour whatever salt the ``.key_hashes`` file holds, and both
give up when no salt can work.
"""

from __future__ import annotations

import hashlib
import shutil

import pytest

pytest.importorskip("datadings", reason="the oracle datadings==3.4.7 is installed by the hatch test env")

import datadings.index  # noqa: E402

from dings.format import hash_keys, hash_string  # noqa: E402
from dings.format.index import make_salt  # noqa: E402

MAX_TRIES = 1000
SAMPLE_KEYS = ["", "a", "0", "small-0001", "日本語のキー", "🦆", "e\u0301", "k" * 1000]


def format_salt(attempt: int) -> bytes:
    """The salt of try ``attempt`` as FORMAT.md defines it."""
    return hashlib.blake2s(str(attempt).encode("utf-8")).digest()[:8]


def test_dings_and_datadings_hash_keys_choose_the_same_salt_and_hashes(corpus):
    our_salt, our_hashes = hash_keys(corpus.keys)
    their_salt, their_hashes = datadings.index.hash_keys(corpus.keys)
    assert our_salt == their_salt == format_salt(0)
    assert [int(h) for h in our_hashes] == [int(h) for h in their_hashes]


def test_every_salt_a_retry_can_choose_is_derived_as_in_the_format():
    assert [make_salt(i) for i in range(MAX_TRIES)] == [format_salt(i) for i in range(MAX_TRIES)]


def test_dings_and_datadings_hash_keys_identically_with_every_retry_salt():
    for attempt in range(MAX_TRIES):
        salt = format_salt(attempt)
        for key in SAMPLE_KEYS:
            assert hash_string(key, salt) == datadings.index.hash_string(key, salt), (attempt, key)


@pytest.mark.parametrize("attempt", [1, 2, 999])
@pytest.mark.parametrize("corpus", ["unicode-keys", "1000-small-dicts"], indirect=True)
def test_both_readers_use_the_salt_stored_in_the_key_hashes_file(attempt, corpus, written, tmp_path, helpers):
    # the .key_hashes file a writer produces after `attempt` salt retries (hashes via datadings' API)
    folder = tmp_path / "retried"
    folder.mkdir()
    for suffix in ("", ".offsets", ".keys", ".filter"):
        shutil.copyfile(helpers.companion(written.datadings, suffix), folder / (written.datadings.name + suffix))
    data = folder / written.datadings.name
    salt = format_salt(attempt)
    hashes = b"".join(datadings.index.hash_string(key, salt).to_bytes(8, "big") for key in corpus.keys)
    helpers.companion(data, ".key_hashes").write_bytes(salt + hashes)

    theirs = helpers.open_datadings_reader(data)
    with helpers.open_dings_reader(data) as ours:
        for i, key in corpus.lookups:
            assert ours.find_index(key) == int(theirs.find_index(key)) == i, key
            assert key in ours and key in theirs
        assert "not-a-key" not in ours
        assert "not-a-key" not in theirs


# No test writes keys whose salted 64-bit hashes really collide: finding such a pair is a birthday
# search over about 2**32 hashes (hours in Python, tens of GB). The retry path is covered piecewise:
# salts of every attempt match, readers agree on files hashed with later salts (above), and
# tests/format/test_index.py forces a collision on the first salt.


def test_dings_and_datadings_both_give_up_when_no_salt_makes_the_hashes_distinct():
    duplicate_keys = ["same", "same"]
    with pytest.raises(RuntimeError):
        datadings.index.hash_keys(duplicate_keys)
    with pytest.raises(Exception, match="1000"):
        hash_keys(duplicate_keys)


def test_dings_gives_up_with_the_same_exception_type_as_datadings():
    duplicate_keys = ["same", "same"]
    with pytest.raises(Exception) as theirs:
        datadings.index.hash_keys(duplicate_keys)
    with pytest.raises(theirs.type):
        hash_keys(duplicate_keys)
