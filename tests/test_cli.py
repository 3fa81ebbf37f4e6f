"""The glassnet command: version, help, and its subcommands handing their arguments on."""

import subprocess
import sys

import pytest

import glassnet
from glassnet import cli


def test_version_and_help():
    out = subprocess.run([sys.executable, "-m", "glassnet.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"glassnet {glassnet.__version__}"
    out = subprocess.run([sys.executable, "-m", "glassnet.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for name in cli.COMMANDS:
        assert name in out.stdout


def test_example_lists_the_examples_and_refuses_unknown_names(capsys):
    assert cli.main(["example", "--help"]) == 0
    assert "examples: mnist, imdb, boston_housing" in capsys.readouterr().out
    assert cli.main(["example", "no_such_example"]) == 2
    assert capsys.readouterr().err.startswith("glassnet example: unknown example 'no_such_example'; expected one "
                                              "of: mnist, imdb, boston_housing, convnet_mnist")


def test_playground_options_reach_the_playground(capsys):
    with pytest.raises(SystemExit) as exit_info:  # argparse's --help exits (no extra needed)
        cli.main(["playground", "--help"])
    assert exit_info.value.code == 0
    assert "--no-browser" in capsys.readouterr().out


def test_example_without_data_prints_one_message_and_exits_with_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GLASSNET_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("GLASSNET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GLASSNET_DATASETS_URL", (tmp_path / "no-server").as_uri())  # fails at once, offline
    assert cli.main(["example", "boston_housing", "--quick", "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("glassnet example boston_housing: Boston Housing: the data was not found")
    assert "Traceback" not in captured.err and f"{tmp_path / 'nowhere'} (does not exist)" in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no empty cache folder, no output folder
