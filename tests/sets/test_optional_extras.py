"""The catalog works without any extra installed; a converter whose extra is missing names it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCK = "import sys\nfor name in ('PIL', 'scipy', 'cv2', 'tifffile', 'simplejpeg'):\n    sys.modules[name] = None\n"


def run_blocked(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK + textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_catalog_imports_and_lists_everything_without_extras():
    result = run_blocked("""
        import dings.sets
        from dings.sets import get, list_datasets, search
        infos = list_datasets()
        assert len(infos) >= 21, [i.name for i in infos]
        for info in infos:
            assert get(info.name) is info
            info.to_dict()
        assert search("domain:saliency")
        for name in ("PIL", "scipy", "cv2", "tifffile"):
            assert sys.modules[name] is None, name + " was imported by the catalog"
        print("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_converter_without_its_extra_says_which_extra_to_install():
    result = run_blocked("""
        import numpy as np
        from dings.sets.classification._cifar import encode_row
        try:
            encode_row(np.zeros(3072, dtype=np.uint8))
        except ImportError as error:
            print(error)
    """)
    assert result.returncode == 0, result.stderr
    assert 'pip install "dings-sets[classification]"' in result.stdout
    assert "CIFAR" in result.stdout


def test_a_missing_extra_is_named_before_anything_is_downloaded_or_created(tmp_path):
    result = run_blocked(f"""
        from pathlib import Path
        from dings.sets import MIT1003_write
        from dings.sets.converter import ConversionError
        try:
            MIT1003_write.main([{str(tmp_path / "in")!r}, "-o", {str(tmp_path / "out")!r}, "-q"])
        except ConversionError as error:
            print(error)
    """)
    assert result.returncode == 0, result.stderr
    assert (
        "the converter needs" in result.stdout
        and "scipy" in result.stdout
        and 'pip install "dings-sets[saliency]"' in result.stdout
    )
    assert "dings-cli[converters]" in result.stdout
    assert list(tmp_path.iterdir()) == []  # no input folder, no output folder, no download


def test_nothing_is_missing_when_the_extra_is_installed():
    from dings.sets import get
    from dings.sets.converter import missing_requirements

    assert missing_requirements(get("MIT1003")) == []
    assert missing_requirements(get("CIFAR10")) == []
