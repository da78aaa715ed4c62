"""deploy/: the Zero to JupyterHub values and the role configurations, checked offline.

Kubernetes itself is not run here. What can be checked without it: the
values load, every key the course relies on is set and consistent (image,
exchange volume and its path, course salt, nbgrader's groups, the server
role's scope), the hub's spawn hook runs and gives each role its
configuration, and those role folders are the ones the local hub test
(``tests/browser/test_hub.py``) runs with.
"""

import json
import types
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
VALUES = ROOT / "deploy" / "z2jh" / "config.yaml"
ROLES = ROOT / "deploy" / "jupyter-config"
IMAGE_REPO_DIR = "/srv/gradients"  # repo2docker --target-repo-dir in config.yaml's build command
COURSE = "gradients"


@pytest.fixture(scope="module")
def values():
    return yaml.safe_load(VALUES.read_text())


def test_the_single_user_image_is_built_from_this_repository(values):
    image = values["singleuser"]["image"]
    assert image["name"] and image["tag"], image
    assert f"--target-repo-dir {IMAGE_REPO_DIR}" in VALUES.read_text(), "the build command must keep the course " \
        "outside /home/jovyan, which the home volume hides"
    assert (ROOT / "environment.yml").exists() and (ROOT / "postBuild").exists(), "repo2docker builds from these"


def test_every_server_mounts_the_exchange_where_nbgrader_looks(values):
    single = values["singleuser"]
    exchange = single["extraEnv"]["NBGRADER_EXCHANGE"]
    mounts = {m["mountPath"]: m["name"] for m in single["storage"]["extraVolumeMounts"]}
    assert exchange in mounts, f"NBGRADER_EXCHANGE={exchange} is not a mounted volume: {mounts}"
    volumes = {v["name"]: v for v in single["storage"]["extraVolumes"]}
    assert "persistentVolumeClaim" in volumes[mounts[exchange]], volumes


def test_the_course_salt_is_set_for_every_server(values):
    salt = values["singleuser"]["extraEnv"]["NABLAKIT_COURSE_SALT"]
    assert isinstance(salt, str) and salt.strip() and salt != "gradients-course", \
        "set a salt of your own (the default is public)"


def test_nbgrader_groups_and_roles(values):
    hub = values["hub"]
    groups = hub["loadGroups"]
    assert set(groups) == {f"formgrade-{COURSE}", f"nbgrader-{COURSE}"}, groups
    allowed = set(hub["config"]["Authenticator"]["allowed_users"])
    for name, group in groups.items():
        assert set(group["users"]) <= allowed, f"{name} has users who cannot log in"
    assert not set(groups[f"formgrade-{COURSE}"]["users"]) & set(groups[f"nbgrader-{COURSE}"]["users"])
    assert "read:users:groups!user" in hub["loadRoles"]["server"]["scopes"], \
        "nbgrader's JupyterHubAuthPlugin reads the user's groups with the server's token"
    auth = values["singleuser"]["extraFiles"]["nbgrader-hub-auth"]
    compile(auth["stringData"], "nbgrader_config.py", "exec")
    assert "JupyterHubAuthPlugin" in auth["stringData"]


def _spawn(values, user, groups):
    """Run the hub's extraConfig on a stand-in spawner, as KubeSpawner would before a start."""
    code = "\n".join(values["hub"]["extraConfig"].values())
    config = types.SimpleNamespace(KubeSpawner=types.SimpleNamespace())
    namespace = {"c": config}
    import os

    old = os.environ.get("GRADIENTS_GRADEBOOK_URL")
    os.environ["GRADIENTS_GRADEBOOK_URL"] = "postgresql+psycopg://grader@db/gradebook"
    try:
        exec(compile(code, "extraConfig", "exec"), namespace)
        spawner = types.SimpleNamespace(
            user=types.SimpleNamespace(name=user, groups=[types.SimpleNamespace(name=g) for g in groups]),
            environment={"NABLAKIT_COURSE_SALT": "x"}, volumes=[], volume_mounts=[])
        config.KubeSpawner.pre_spawn_hook(spawner)
    finally:
        if old is None:
            del os.environ["GRADIENTS_GRADEBOOK_URL"]
        else:
            os.environ["GRADIENTS_GRADEBOOK_URL"] = old
    return spawner


def test_graders_get_the_course_and_gradebook_students_do_not(values):
    grader = _spawn(values, "ta", [f"formgrade-{COURSE}"])
    student = _spawn(values, "alice", [f"nbgrader-{COURSE}"])
    assert grader.environment["NBGRADER_DB_URL"].startswith("postgresql")
    assert "NBGRADER_DB_URL" not in student.environment
    assert [m["mountPath"] for m in grader.volume_mounts] == [f"/home/jovyan/{COURSE}"]
    assert not student.volumes and not student.volume_mounts
    for spawner, role in ((grader, "instructor"), (student, "student")):
        path = spawner.environment["JUPYTER_CONFIG_PATH"]
        assert path == f"{IMAGE_REPO_DIR}/deploy/jupyter-config/{role}"
        assert (ROOT / Path(path).relative_to(IMAGE_REPO_DIR)).is_dir(), f"{path} is not in the image"
        assert spawner.environment["NABLAKIT_COURSE_SALT"] == "x"


def test_role_configurations():
    student = json.loads((ROLES / "student" / "jupyter_server_config.json").read_text())
    assert student["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is False
    instructor = json.loads((ROLES / "instructor" / "jupyter_server_config.json").read_text())
    assert instructor["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is True
    csp = instructor["ServerApp"]["tornado_settings"]["headers"]["Content-Security-Policy"]
    assert csp == "frame-ancestors 'self'", "the formgrader tab is a frame of the hub's own origin"
    for role, disabled in (("student", True), ("instructor", False)):
        page = json.loads((ROLES / role / "labconfig" / "page_config.json").read_text())
        assert page["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is disabled
        compile((ROLES / role / "nbgrader_config.py").read_text(), f"{role}/nbgrader_config.py", "exec")


def test_readme_walks_through_the_deployment():
    readme = (ROOT / "README.md").read_text()
    assert "deploy/z2jh/config.yaml" in readme and "make hub" in readme


def test_make_hub_lays_out_homes_course_and_exchange(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo_hub", ROOT / "deploy" / "local" / "demo_hub.py")
    demo_hub = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo_hub)
    state = demo_hub.prepare_state(tmp_path / "state")
    assert (state / "exchange").stat().st_mode & 0o777 == 0o777, "every user's server writes the exchange"
    course = state / "home" / "instructor" / COURSE
    for path in ("solutions/ex01-partial-derivatives", "exercises/ex01-partial-derivatives",
                 "autograder/nbgrader_config.py"):
        assert (course / path).exists(), path
    assert (state / "home" / "ta" / COURSE).resolve() == course.resolve()
    for student in ("alice", "bob"):
        assert not any((state / "home" / student).iterdir()), "a student's home starts empty"
    assert demo_hub.GROUPS == {f"formgrade-{COURSE}": ["instructor", "ta"], f"nbgrader-{COURSE}": ["alice", "bob"]}
