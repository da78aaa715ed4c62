"""JupyterHub configuration of the local demo hub (`make hub`).

Read by ``jupyterhub -f``; ``demo_hub.py`` prepares the state folder and
passes its settings in ``NABLAKIT_HUB_*`` environment variables. Users log in
with one shared password (JupyterHub's ``SharedPasswordAuthenticator``); every
user's server is a process of the same Unix account with its own home
folder (``SimpleLocalProcessSpawner``). That is a demo, not isolation: see
``deploy/README.md`` for a class.
"""

import json
import os
import sys

c = get_config()  # noqa: F821 - injected by traitlets

STATE = os.environ["NABLAKIT_HUB_STATE"]
ROLE_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "jupyter-config")
GROUPS = json.loads(os.environ["NABLAKIT_HUB_GROUPS"])  # {"formgrade-gradients": [...], "nbgrader-gradients": [...]}
GRADERS = set(GROUPS["formgrade-gradients"])

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ["NABLAKIT_HUB_PORT"])
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ["NABLAKIT_HUB_API_PORT"])
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ['NABLAKIT_HUB_PROXY_API_PORT']}"
c.ConfigurableHTTPProxy.command = [os.environ["NABLAKIT_HUB_PROXY"]]
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(STATE, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(STATE, "jupyterhub.pid")
# Ctrl-C stops every user's server and the proxy, so nothing is left behind.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ["NABLAKIT_HUB_PASSWORD"]
c.Authenticator.allowed_users = {user for members in GROUPS.values() for user in members}
# nbgrader's hub groups: who grades the course and who takes it.
c.JupyterHub.load_groups = {name: {"users": members} for name, members in GROUPS.items()}

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(STATE, "home", "{username}")
c.Spawner.cmd = [os.path.join(os.path.dirname(sys.executable), "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
# Ctrl-C: a server still shutting its kernels down after SIGINT gets SIGTERM after 3 s, not 10.
c.LocalProcessSpawner.interrupt_timeout = 3
c.Spawner.http_timeout = 120
args = ["--allow-root"] if os.geteuid() == 0 else []  # Jupyter refuses root (containers, CI) unless told
if os.environ.get("NABLAKIT_HUB_EXPOSE_APP"):
    args.append("--LabApp.expose_app_in_browser=True")  # the browser tests reach JupyterLab's commands
c.Spawner.args = args

# Every server: the shared exchange and the course's variant settings.
course_env = {"NBGRADER_EXCHANGE": os.path.join(STATE, "exchange")}
for name in ("NABLAKIT_COURSE_SALT", "NABLAKIT_VARIANTS"):
    if name in os.environ:
        course_env[name] = os.environ[name]
c.Spawner.environment = course_env


def by_role(spawner):
    """Graders get the formgrader and the gradebook; students the Assignments tab only.

    The role's Jupyter config folder goes first on ``JUPYTER_CONFIG_PATH``,
    which outranks the environment's own (where ``make setup`` disabled the
    instructor plug-ins for everyone).
    """
    name = spawner.user.name
    role = "instructor" if name in GRADERS else "student"
    env = dict(spawner.environment)  # a copy: the configured dict is shared by every spawner
    env["JUPYTER_CONFIG_PATH"] = os.path.join(ROLE_CONFIG, role)
    if role == "instructor" and os.environ.get("NBGRADER_DB_URL"):
        env["NBGRADER_DB_URL"] = os.environ["NBGRADER_DB_URL"]  # students never get the gradebook's URL
    spawner.environment = env


c.Spawner.pre_spawn_hook = by_role
