"""pytest only: close the figures each widget doctest opens, so they do not pile up."""

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_doctest_figures():
    yield
    plt.close("all")
