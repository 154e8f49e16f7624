"""The examples in the packages' docstrings run as written (those that need a knowledge
base are marked ``+SKIP``)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import bot
import ingest

MODULES = sorted(
    info.name
    for package in (bot, ingest)
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=True)

    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
