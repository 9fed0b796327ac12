"""The container files, checked as text: Docker cannot run here, so the structure, the
wiring between services and the absence of secrets are what we can hold them to."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SUBSTITUTION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<modifier>[^}]*)\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY", re.IGNORECASE)
REQUIRED_ONLY = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}")
HEALTHZ_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/healthz")
# Parsed by hand: urllib would take the "?" of "${X:?msg}" for the start of a query string.
DATABASE_URL = re.compile(r"(?P<scheme>[\w+]+)://(?P<user>[^:@/]+):(?P<password>.+)@"
                          r"(?P<host>[^:@/]+):(?P<port>\d+)/(?P<database>\w+)")
CREDENTIALS_IN_URL = re.compile(r"://[^:@/]+:(?P<password>.+)@")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def stages() -> list[dict[str, list[str]]]:
    """Per build stage: instruction → its argument strings, continuation lines joined,
    comments dropped. Each FROM starts a stage; the last one is the image that runs."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines()
                                              if not line.lstrip().startswith("#")))
    parsed: list[dict[str, list[str]]] = []
    for line in filter(None, (line.strip() for line in logical.splitlines())):
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "FROM":
            parsed.append({})
        parsed[-1].setdefault(keyword.upper(), []).append(rest.strip())
    return parsed


@pytest.fixture(scope="module")
def dockerfile(stages) -> dict[str, list[str]]:
    """The final stage: the image that runs."""
    return stages[-1]


def _strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*_strings(key), *_strings(value))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def _exec_form(args: str) -> list[str]:
    """A JSON-array instruction argument (the exec form: no shell, signals reach the app)."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(part, str) for part in value), args
    return value


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def _healthcheck_port(test: list[str]) -> int:
    match = HEALTHZ_URL.search(" ".join(test))
    assert match, f"health check does not ask /healthz: {test}"
    return int(match.group(1))


def _exposed_port(dockerfile) -> int:
    (exposed,) = dockerfile["EXPOSE"]
    return int(exposed)


# --- docker-compose.yml ----------------------------------------------------------------------

def test_services(services):
    assert {"postgres", "web", "worker"} <= set(services)


def test_postgres_has_a_readiness_check_and_keeps_its_data(services):
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])


def test_web_serves_without_the_in_process_worker(services, dockerfile):
    web = services["web"]
    assert web["build"] == "."
    command = web["command"]
    assert command[:2] == ["webcare", "serve"] and "--no-worker" in command
    assert _option(command, "--host") == "0.0.0.0"
    port = int(_option(command, "--port"))
    assert port == _exposed_port(dockerfile)
    assert [mapping.rsplit(":", 1)[1] for mapping in web["ports"]] == [str(port)]
    assert _healthcheck_port(web["healthcheck"]["test"]) == port
    assert web["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_worker_starts_after_web_has_migrated(services):
    web, worker = services["web"], services["worker"]
    assert worker["command"] == ["webcare", "worker"]
    assert worker["depends_on"] == {"web": {"condition": "service_healthy"}}
    assert (worker["build"], worker["image"]) == (web["build"], web["image"])
    # the image's check asks an HTTP port the worker does not serve
    assert worker["healthcheck"] == {"disable": True}
    assert "ports" not in worker


def test_app_services_share_database_and_secret(services):
    web, worker = services["web"], services["worker"]
    assert web["environment"] == worker["environment"]
    env = web["environment"]
    url = DATABASE_URL.fullmatch(env["WEBCARE_DATABASE_URL"])
    assert url and (url["scheme"], url["host"], url["port"]) == ("postgresql+asyncpg", "postgres", "5432")
    postgres_env = services["postgres"]["environment"]
    assert (url["user"], url["database"]) == (postgres_env["POSTGRES_USER"], postgres_env["POSTGRES_DB"])
    assert url["password"] == postgres_env["POSTGRES_PASSWORD"]  # the same ${...} reference
    assert env["WEBCARE_SECRET_KEY"] == "${WEBCARE_SECRET_KEY:?set it}"
    assert env["WEBCARE_DATA_DIR"] == "/data"


def test_no_literal_secret(services):
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert REQUIRED_ONLY.fullmatch(str(value)), f"{name}.{key} holds a literal: {value!r}"
            credentials = CREDENTIALS_IN_URL.search(str(value))
            if credentials:
                assert REQUIRED_ONLY.fullmatch(credentials["password"]), f"{name}.{key}: literal password in URL"


def test_secret_variables_are_required(compose):
    substitutions = [m for text in _strings(compose) for m in SUBSTITUTION.finditer(text)]
    secrets = {m.group("name"): m.group("modifier") for m in substitutions if SECRET_NAME.search(m.group("name"))}
    assert {"POSTGRES_PASSWORD", "WEBCARE_SECRET_KEY"} <= set(secrets)
    for m in substitutions:
        if SECRET_NAME.search(m.group("name")):
            # ":?" makes compose refuse to start without it, instead of using an empty secret
            assert m.group("modifier").startswith(":?"), f"${{{m.group('name')}}} must use the :? form"


# --- Dockerfile --------------------------------------------------------------------------------

def test_dockerfile_base_and_install(stages, dockerfile):
    assert [stage["FROM"][0].split()[0] for stage in stages] == ["python:3.11-slim"] * len(stages)
    assert dockerfile["WORKDIR"] == ["/srv/webcare"]
    assert any("pip install" in run for run in dockerfile["RUN"])
    copied = {shlex.split(args)[-1] for stage in stages for args in stage["COPY"]}
    assert {"./app", "./templates", "./static", "./connectors"} <= copied


def _stage_name(stage: dict[str, list[str]]) -> str | None:
    words = stage["FROM"][0].split()
    return words[2] if len(words) == 3 and words[1].upper() == "AS" else None


def test_dockerfile_installs_a_wheel_not_the_source_tree(stages, dockerfile):
    """A normal install: the image runs the installed package, never an editable checkout."""
    runs = [run for stage in stages for run in stage.get("RUN", [])]
    assert not any(re.search(r"\s(-e|--editable)\b", run) for run in runs), runs
    build = [stage for stage in stages[:-1] if any("pip wheel" in run for run in stage.get("RUN", []))]
    assert len(build) == 1 and _stage_name(build[0]), "one named stage builds the wheel"
    # the source folders go to the build stage only; the image takes the wheel from it
    final_copies = [shlex.split(args) for args in dockerfile["COPY"]]
    assert not {"./app", "./templates", "./static", "./connectors"} & {copy[-1] for copy in final_copies}
    (wheels,) = [copy for copy in final_copies if copy[0] == f"--from={_stage_name(build[0])}"]
    assert any(re.search(rf"pip install {re.escape(wheels[-1])}/\S*\.whl", run) for run in dockerfile["RUN"])


def test_dockerfile_runs_unprivileged(dockerfile):
    (user,) = dockerfile["USER"]
    assert user not in ("root", "0")
    assert any("useradd" in run and user in run for run in dockerfile["RUN"])


def test_dockerfile_keeps_data_in_a_volume(dockerfile):
    assert "WEBCARE_DATA_DIR=/data" in " ".join(dockerfile["ENV"])
    assert dockerfile["VOLUME"] == ["/data"]


def test_dockerfile_command_and_health_agree_on_the_port(dockerfile):
    port = _exposed_port(dockerfile)
    assert port == 8000
    (cmd,) = dockerfile["CMD"]
    command = _exec_form(cmd)
    assert command[:2] == ["webcare", "serve"] and _option(command, "--host") == "0.0.0.0"
    assert int(_option(command, "--port")) == port
    (healthcheck,) = dockerfile["HEALTHCHECK"]
    check = healthcheck.partition(" CMD ")[2]
    probe = _exec_form(check)
    assert probe[0] == "python"  # slim images have no curl
    assert _healthcheck_port(probe) == port
