"""Shared test set-up: private HOME, Matplotlib and Jupyter dirs; Agg backend; the "NOT TESTED" block."""

import os
import tempfile

import pytest

# After pytest's closing line: the suites skipped for a missing system part, and the fix.
from system_parts import pytest_unconfigure  # noqa: F401

_TMP = tempfile.mkdtemp(prefix="nablakit-tests-")
for var, sub in {
    "HOME": "home",
    "MPLCONFIGDIR": "mpl",
    "JUPYTER_CONFIG_DIR": "jupyter-config",
    "JUPYTER_DATA_DIR": "jupyter-data",
    "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
    "IPYTHONDIR": "ipython",
}.items():
    path = os.path.join(_TMP, sub)
    os.makedirs(path, exist_ok=True)
    os.environ[var] = path
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"


def _close_all_figures():
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def close_figures():
    """Close every pyplot figure after the test (widget tests build many); use with ``usefixtures``."""
    yield
    _close_all_figures()


@pytest.fixture(scope="module")
def close_figures_after_module():
    """Close every pyplot figure after the module's tests (for modules that share figures between tests)."""
    yield
    _close_all_figures()
