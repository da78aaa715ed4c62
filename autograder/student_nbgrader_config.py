"""nbgrader settings for a student's or self-learner's JupyterLab.

`make setup` and Binder's `postBuild` copy this file to
``<environment>/etc/jupyter/nbgrader_config.py``. It gives the Assignment List
a private, existing exchange folder, so a learner without an instructor sees
"no assignments" instead of an error. A course's JupyterHub sets its shared
exchange in its own config, and `autograder/nbgrader_config.py` (read when
nbgrader runs in `autograder/`) takes precedence for instructors.
"""

import os

from jupyter_core.paths import jupyter_data_dir

c = get_config()  # noqa: F821 - injected by traitlets

exchange = os.environ.get("NBGRADER_EXCHANGE", os.path.join(jupyter_data_dir(), "nbgrader_exchange"))
os.makedirs(exchange, exist_ok=True)
c.Exchange.root = exchange
