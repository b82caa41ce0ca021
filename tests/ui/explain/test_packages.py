"""The UI packages name their public modules: `__all__` lists exactly the modules there are."""

from __future__ import annotations

import importlib
import pkgutil

import pytest


@pytest.mark.parametrize("package", ["cnnviz.ui.explain", "cnnviz.ui.explain.views",
                                     "cnnviz.ui.common"])
def test_all_names_every_module_of_the_package(package):
    module = importlib.import_module(package)
    modules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    assert sorted(module.__all__) == sorted(modules)
    assert module.__doc__ and all(f"`{name}`" in module.__doc__ for name in modules)
