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
    assert capsys.readouterr().err == ("glassnet example: unknown example 'no_such_example'; expected one of: mnist, "
                                       "imdb, boston_housing\n")


def test_playground_options_reach_the_playground(capsys):
    with pytest.raises(SystemExit) as exit_info:  # argparse's --help exits (no extra needed)
        cli.main(["playground", "--help"])
    assert exit_info.value.code == 0
    assert "--no-browser" in capsys.readouterr().out
