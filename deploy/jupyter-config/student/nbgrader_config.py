"""nbgrader for a student's server on the course's JupyterHub (first on JUPYTER_CONFIG_PATH).

The exchange comes from ``NBGRADER_EXCHANGE`` (the environment's own
``nbgrader_config.py``, see ``autograder/student_nbgrader_config.py``).
"""

import os

c = get_config()  # noqa: F821 - injected by traitlets

c.CourseDirectory.course_id = "gradients"
# nbgrader names a submission after the Unix account, except for `jovyan` (the account of
# repo2docker and Kubernetes images), where it takes JUPYTERHUB_USER. On a hub whose users share
# one account (`make hub`) every student would be that account: the hub user is the student id.
if os.environ.get("JUPYTERHUB_USER"):
    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
