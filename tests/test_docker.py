"""docker/: the files are valid and consistent with each other and with the repository.

There is no Docker engine here, so nothing is built or started: these tests parse the
Dockerfile, compose.yaml, dagster.yaml, workspace.yaml, .env.example and the init script and
check what they reference (paths, images, ports, variables, the code location's module).
"""

from __future__ import annotations

import importlib
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "docker"
VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _env_example() -> dict[str, str]:
    values = {}
    for line in (DOCKER / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def _builds() -> list[tuple[str, Path, Path]]:
    """(service, build context, Dockerfile) for every service that is built."""
    out = []
    for name, service in _services().items():
        build = service.get("build")
        if build is None:
            continue
        context = (DOCKER / (build if isinstance(build, str) else build["context"])).resolve()
        dockerfile = context / (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        out.append((name, context, dockerfile))
    return out


def _grpc_command() -> list[str]:
    command = _services()["user-code"]["command"]
    return command if isinstance(command, list) else shlex.split(command)


def _option(args: list[str], *names: str) -> str:
    for i, arg in enumerate(args):
        if arg in names:
            return args[i + 1]
    raise AssertionError(f"none of {names} in {args}")


def test_build_contexts_and_dockerfiles_exist() -> None:
    builds = _builds()
    assert {name for name, _, _ in builds} >= {"user-code", "webserver", "daemon"}
    for name, context, dockerfile in builds:
        assert context.is_dir(), f"{name}: build context {context} missing"
        assert dockerfile.is_file(), f"{name}: {dockerfile} missing"


def test_every_copy_source_exists_and_survives_the_dockerignore() -> None:
    for _, context, dockerfile in _builds():
        ignore = dockerfile.with_name(dockerfile.name + ".dockerignore").read_text()
        kept = {
            line[1:].removesuffix("/**") for line in ignore.splitlines() if line.startswith("!")
        }
        for op, rest in _dockerfile_instructions(dockerfile):
            if op not in ("COPY", "ADD"):
                continue
            args = [a for a in shlex.split(rest) if not a.startswith("--")]
            assert "--from" not in rest
            for source in args[:-1]:
                assert (context / source).exists(), f"COPY {source}: not in the build context"
                assert source in kept, f"COPY {source}: excluded by the .dockerignore"


def test_the_image_installs_with_the_constraints_and_runs_the_grpc_server() -> None:
    (_, _, dockerfile), *_ = _builds()
    instructions = _dockerfile_instructions(dockerfile)
    runs = " ".join(rest for op, rest in instructions if op == "RUN")
    assert re.search(r"pip install -c constraints\.txt", runs)
    cmd = [rest for op, rest in instructions if op == "CMD"][-1]
    assert yaml.safe_load(cmd) == _grpc_command()


def _image_refs() -> list[str]:
    refs = [s["image"] for s in _services().values() if "image" in s]
    for _, _, dockerfile in _builds():
        refs += [
            rest.split()[0] for op, rest in _dockerfile_instructions(dockerfile) if op == "FROM"
        ]
    return refs


def test_images_are_pinned_tags() -> None:
    refs = _image_refs()
    assert "timescale/timescaledb:2.19.3-pg15" in refs  # the community image: TSL features
    for ref in refs:
        name, _, tag = ref.rpartition(":")
        assert name and tag and "/" not in tag, f"{ref} has no tag"
        assert tag != "latest" and not tag.startswith("latest-"), f"{ref} is not pinned"
        assert "$" not in ref, f"{ref} is not pinned"


def test_ports_agree_between_compose_workspace_and_the_grpc_command() -> None:
    workspace = yaml.safe_load((DOCKER / "workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    grpc = entry["grpc_server"]
    args = _grpc_command()
    port = _option(args, "-p", "--port")
    assert str(grpc["port"]) == port
    assert grpc["host"] in _services(), "workspace host is not a compose service"
    assert grpc["host"] == "user-code"
    assert port in [str(p) for p in _services()["user-code"]["expose"]]
    assert port in _services()["user-code"]["healthcheck"]["test"]
    assert _option(args, "-h", "--host") == "0.0.0.0"

    web = _services()["webserver"]
    web_port = _option(web["command"], "-p", "--port")
    assert any(str(p).endswith(f":{web_port}") for p in web["ports"])
    for name in ("webserver", "daemon"):
        assert _option(_services()[name]["command"], "-w", "--workspace") == (
            "/opt/dagster/home/workspace.yaml"
        )


def test_the_code_location_is_the_same_everywhere() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["dagster"]
    args = _grpc_command()
    module = _option(args, "-m", "--module-name")
    assert module == pyproject["module_name"]
    docker_ws = yaml.safe_load((DOCKER / "workspace.yaml").read_text())["load_from"][0]
    local_ws = yaml.safe_load((REPO / "workspace.yaml").read_text())["load_from"][0]
    assert docker_ws["grpc_server"]["location_name"] == pyproject["code_location_name"]
    assert local_ws["python_module"]["module_name"] == module
    assert local_ws["python_module"]["location_name"] == pyproject["code_location_name"]


def test_the_module_in_the_grpc_command_imports() -> None:
    module = importlib.import_module(_option(_grpc_command(), "-m", "--module-name"))
    assert hasattr(module, "defs")


def _compose_variables() -> dict[str, set[str]]:
    """Each ${VAR} of compose.yaml with the operators it is used with ('', ':-', ':?', ...)."""
    found: dict[str, set[str]] = {}
    lines = (DOCKER / "compose.yaml").read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    for match in VAR.finditer(text):
        found.setdefault(match.group(1), set()).add(match.group(2) or "")
    return found


def test_every_compose_variable_is_in_the_env_example() -> None:
    example = _env_example()
    variables = _compose_variables()
    assert variables
    for name, operators in variables.items():
        assert name in example, f"${{{name}}} is used in compose.yaml but not in .env.example"
        assert "" not in operators, f"${{{name}}}: say :? (required) or :- (optional)"
    assert variables["POSTGRES_PASSWORD"] == {":?"}


def test_every_env_example_variable_is_read_somewhere() -> None:
    sources = [
        (DOCKER / "compose.yaml").read_text(),
        (DOCKER / "initdb" / "10-growth-databases.sh").read_text(),
        *(p.read_text() for d in ("growth_assets", "resources") for p in (REPO / d).rglob("*.py")),
    ]
    for name in _env_example():
        assert any(re.search(rf"\b{name}\b", text) for text in sources), f"{name} is never read"


def test_the_env_example_holds_no_real_secret() -> None:
    example = _env_example()
    assert example["SLACK_WEBHOOK_URL"] == ""
    for name, value in example.items():
        if any(word in name for word in ("PASSWORD", "SECRET", "TOKEN", "KEY")):
            assert value == "" or "change-me" in value, f"{name} looks like a real value"
    gitignore = (REPO / ".gitignore").read_text().splitlines()
    assert "docker/.env" in gitignore


def test_dagster_instance_settings_come_from_variables_compose_sets() -> None:
    instance = (DOCKER / "dagster.yaml").read_text()
    needed = set(re.findall(r"env:\s*([A-Z_][A-Z0-9_]*)", instance))
    assert needed == {"DAGSTER_PG_URL"}
    for name in ("user-code", "webserver", "daemon"):
        assert needed <= set(_services()[name]["environment"]), name
    for name in ("user-code", "webserver", "daemon"):
        mounts = [str(v) for v in _services()[name].get("volumes", [])]
        assert "dagster-storage:/opt/dagster/home/storage" in mounts, name


def test_timescaledb_is_preloaded_and_the_init_script_mounted_alone() -> None:
    db = _services()["timescaledb"]
    assert "shared_preload_libraries=timescaledb" in db["command"]
    (mount,) = [v for v in db["volumes"] if "docker-entrypoint-initdb.d" in v]
    source, target, *_ = mount.split(":")
    script = (DOCKER / source).resolve()
    assert script.is_file() and script.stat().st_mode & 0o111, (
        "init script missing or not executable"
    )
    assert target == f"/docker-entrypoint-initdb.d/{script.name}", "mount the file, not the folder"
    text = script.read_text()
    assert "CREATE DATABASE" in text and "shared_preload_libraries" in text
    if shutil.which("bash"):
        subprocess.run(["bash", "-n", str(script)], check=True)


def test_services_start_in_order() -> None:
    services = _services()
    assert services["migrate"]["depends_on"]["timescaledb"]["condition"] == "service_healthy"
    assert (
        services["user-code"]["depends_on"]["migrate"]["condition"]
        == "service_completed_successfully"
    )
    for name in ("webserver", "daemon"):
        assert services[name]["depends_on"]["user-code"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["user-code", "webserver", "daemon", "migrate"])
def test_secrets_are_only_in_the_environment(name: str) -> None:
    service = _services()[name]
    assert "secrets" not in service
    text = yaml.safe_dump(service)
    assert "change-me" not in text
