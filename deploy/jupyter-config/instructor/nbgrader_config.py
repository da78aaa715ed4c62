"""nbgrader for a grader's server on the course's JupyterHub (first on JUPYTER_CONFIG_PATH).

The course (``solutions/``, ``exercises/``, ``autograder/``) is in ``~/gradients``
(the graders' shared course volume); its own configuration sets the course
root, the gradebook (``NBGRADER_DB_URL``) and the exchange (``NBGRADER_EXCHANGE``).

JupyterHub's single-user servers forbid every frame ("frame-ancestors 'none'"), which
leaves the formgrader's tab blank: ``jupyter_server_config.json`` beside this file allows
frames from the hub's own origin. Its terminals are not login shells, which would reset
PATH and lose the environment's ``nbgrader`` and ``nablakit-grade``.
"""

import os

c = get_config()  # noqa: F821 - injected by traitlets

course = os.path.join(os.path.expanduser("~"), "gradients", "autograder", "nbgrader_config.py")
if os.path.exists(course):
    load_subconfig(course)  # noqa: F821 - injected by traitlets
