"""The catalog lists built-in and plugin datasets, finds them by name, alias and query, and knows
where data lives."""

from __future__ import annotations

import json

import pytest

from dings.sets import DOMAINS, DatasetInfo, UnknownDatasetError, data_dir, get, list_datasets, orphans, search


def test_builtin_and_plugin_datasets_are_listed():
    names = [info.name for info in list_datasets()]
    assert "CIFAR10" in names
    assert "TOYSET" in names, "the toy plugin (tests/sets/toy_plugin) is installed by hatch.toml"
    assert len(names) == len(set(names))


def test_list_is_grouped_by_domain_and_filterable():
    infos = list_datasets()
    assert [DOMAINS.index(i.domain) for i in infos] == sorted(DOMAINS.index(i.domain) for i in infos)
    assert {i.name for i in list_datasets("segmentation")} >= {"TOYSET"}
    assert all(i.domain == "classification" for i in list_datasets("classification"))
    with pytest.raises(ValueError, match="unknown domain 'vision'"):
        list_datasets("vision")


@pytest.mark.parametrize("name", ["CIFAR10", "cifar10", "CIFAR-10", "toy", "TOYSET"])
def test_get_by_name_or_alias_ignores_case(name):
    assert name.lower() in [n.lower() for n in get(name).names]


def test_unknown_name_suggests_close_names():
    with pytest.raises(UnknownDatasetError, match=r"unknown dataset 'CIFAR01'; did you mean CIFAR10") as caught:
        get("CIFAR01")
    suggested = str(caught.value).split("did you mean ")[1].split("?")[0].split(", ")
    assert len(suggested) == len(set(suggested)), "each dataset is suggested once, whatever alias matched"
    with pytest.raises(KeyError, match="dings sets"):
        get("nothing-like-it")


def test_search_by_text_tag_task_and_domain():
    assert [i.name for i in search("tag:plugin")] == ["TOYSET"]
    assert "CIFAR10" in [i.name for i in search("task:image-classification")]
    assert all(i.domain == "segmentation" for i in search("domain:segmentation"))
    assert [i.name for i in search("third-party")] == ["TOYSET"]  # description text
    assert search("tag:plugin domain:classification") == []  # every term must match
    assert len(search("")) == len(list_datasets())


def test_every_entry_is_complete_and_json_able():
    for info in list_datasets():
        facts = json.loads(json.dumps(info.to_dict()))
        assert facts["name"] == info.name
        assert info.description and info.homepage and info.splits and info.sources, info.name
        assert "key" in info.sample_keys, info.name
        for source in info.sources:
            assert source.manual == (source.url is None)


def test_invalid_domain_is_rejected():
    with pytest.raises(ValueError, match="domain 'music'"):
        DatasetInfo(name="X", domain="music", description="", homepage="")


def test_data_dir_prefers_argument_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGS_DATA", str(tmp_path / "env"))
    assert data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert data_dir() == tmp_path / "env"
    monkeypatch.delenv("DINGS_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "dings"


def test_orphans_are_folders_of_no_registered_dataset(tmp_path):
    for name in ("CIFAR10", "toy", "OldStuff", "misc"):
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("a file is not a dataset folder")
    assert [p.name for p in orphans(tmp_path)] == ["OldStuff", "misc"]
    assert orphans(tmp_path / "missing") == []


def test_option_help_placeholders_are_filled_in_the_catalog():
    from dings.sets import Option

    option = Option(("--quality",), "JPEG quality (default: %(default)s)", {"type": int, "default": 85})
    assert option.to_dict() == {
        "flags": ["--quality"],
        "help": "JPEG quality (default: 85)",
        "type": "int",
        "default": 85,
    }
    for info in list_datasets():
        for facts in info.to_dict()["options"]:
            assert "%(" not in facts["help"], (info.name, facts)


def test_prepare_returns_paths_and_facts_of_present_sources(tmp_path):
    from dings.sets import prepare

    (tmp_path / "TOYSET").mkdir()
    (tmp_path / "TOYSET" / "toy.zip").write_bytes(b"toy archive")
    doc = prepare("toy", tmp_path, progress=False)
    assert json.loads(json.dumps(doc)) == doc
    assert doc["indir"] == str(tmp_path / "TOYSET")
    assert doc["files"] == {"toy.zip": str(tmp_path / "TOYSET" / "toy.zip")}
    assert doc["dataset"]["name"] == "TOYSET" and doc["dataset"]["splits"][0]["samples"] == 3


def test_prepare_explains_a_manual_download(tmp_path):
    from dings.sets import prepare
    from dings.tools import MissingSourceFileError

    with pytest.raises(MissingSourceFileError, match=r"leftImg8bit_trainvaltest.zip.*by hand"):
        prepare("Cityscapes", tmp_path, files=["leftImg8bit_trainvaltest.zip"], progress=False)
