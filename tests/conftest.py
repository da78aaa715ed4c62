"""Shared test set-up: private HOME, Matplotlib and Jupyter dirs; Agg backend."""

import os
import tempfile

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
