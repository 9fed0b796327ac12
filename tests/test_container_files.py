"""The container files, checked as text: Docker cannot run here, so the structure, the
wiring between services and the absence of secrets are what we can hold them to."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.app import need_or_skip

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

APP_SERVICES = ("migrate", "web", "worker")


def test_services(services):
    assert {"postgres", "migrate", "web", "worker", "nginx"} <= set(services)


def test_postgres_has_a_readiness_check_and_keeps_its_data(services):
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])


def test_migrations_run_once_before_web_and_workers(services):
    migrate = services["migrate"]
    assert migrate["command"] == ["webcare", "migrate"]
    assert migrate["restart"] == "no"   # a one-shot: done is done
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("web", "worker"):
        # started only once migrate has finished well, and never migrating themselves
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert "--no-migrate" in services[name]["command"], name


def test_two_web_processes_without_the_in_process_worker(services, dockerfile):
    web = services["web"]
    assert web["build"] == "."
    command = web["command"]
    assert command[:2] == ["webcare", "serve"] and "--no-worker" in command
    assert _option(command, "--host") == "0.0.0.0"
    port = int(_option(command, "--port"))
    assert port == _exposed_port(dockerfile)
    assert _healthcheck_port(web["healthcheck"]["test"]) == port
    assert web["deploy"]["replicas"] == 2
    assert "ports" not in web   # two replicas cannot share a host port; nginx is the way in


def test_two_workers(services):
    web, worker = services["web"], services["worker"]
    assert worker["command"] == ["webcare", "worker", "--no-migrate"]
    assert worker["deploy"]["replicas"] == 2
    assert (worker["build"], worker["image"]) == (web["build"], web["image"])
    # the image's check asks an HTTP port the worker does not serve
    assert worker["healthcheck"] == {"disable": True}
    assert "ports" not in worker


def test_app_services_share_database_and_secret(services):
    environments = [services[name]["environment"] for name in APP_SERVICES]
    assert all(env == environments[0] for env in environments)
    env = environments[0]
    url = DATABASE_URL.fullmatch(env["WEBCARE_DATABASE_URL"])
    assert url and (url["scheme"], url["host"], url["port"]) == ("postgresql+asyncpg", "postgres", "5432")
    postgres_env = services["postgres"]["environment"]
    assert (url["user"], url["database"]) == (postgres_env["POSTGRES_USER"], postgres_env["POSTGRES_DB"])
    assert url["password"] == postgres_env["POSTGRES_PASSWORD"]  # the same ${...} reference
    assert REQUIRED_ONLY.fullmatch(env["WEBCARE_SECRET_KEY"])
    assert env["WEBCARE_DATA_DIR"] == "/data"
    assert all(services[name]["volumes"] == ["webcare-data:/data"] for name in APP_SERVICES)


def test_secrets_come_from_an_env_file_that_is_never_committed(services):
    for name in APP_SERVICES:
        assert services[name]["env_file"] == ".env", name
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    example = (ROOT / "deploy" / "webcare.env.example").read_text(encoding="utf-8")
    assignments = dict(line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#"))
    assert {"POSTGRES_PASSWORD", "WEBCARE_SECRET_KEY"} <= set(assignments)
    assert set(assignments.values()) == {""}, "the example must not carry a usable secret"


# --- nginx -------------------------------------------------------------------------------------

NGINX_DIR = "/etc/nginx/webcare"


def _nginx_listen_port() -> int:
    match = re.fullmatch(r"listen (\d+);", _directives(ROOT / "deploy" / "webcare-listen.conf"))
    assert match, "webcare-listen.conf: one `listen <port>;`"
    return int(match.group(1))


def _directives(path: Path) -> str:
    return " ".join(line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()).strip()


def test_nginx_runs_the_repository_config(services):
    nginx = services["nginx"]
    assert nginx["image"].startswith("nginx:")
    assert nginx["volumes"] == [f"./deploy:{NGINX_DIR}:ro"]
    command = nginx["command"]
    assert command[:3] == ["nginx", "-c", f"{NGINX_DIR}/nginx.conf"] and "daemon off;" in command
    assert (ROOT / "deploy" / "nginx.conf").is_file()
    assert nginx["depends_on"] == {"web": {"condition": "service_healthy"}}


def test_nginx_publishes_its_port_and_checks_health_through_a_web_process(services):
    nginx, listen = services["nginx"], _nginx_listen_port()
    assert [mapping.rsplit(":", 1)[1] for mapping in nginx["ports"]] == [str(listen)]
    check = " ".join(nginx["healthcheck"]["test"])
    assert f"/dev/tcp/127.0.0.1/{listen}" in check and "GET /healthz" in check


def test_nginx_upstream_is_the_web_service(services):
    port = _option(services["web"]["command"], "--port")
    assert _directives(ROOT / "deploy" / "webcare-servers.conf") == f"server web:{port};"


def test_nginx_config_streams_events_unbuffered():
    conf = _directives(ROOT / "deploy" / "nginx.conf")
    events = re.search(r"location = /api/events \{(?P<body>[^}]*)\}", conf)
    assert events and "proxy_buffering off;" in events["body"] and "proxy_pass http://webcare;" in events["body"]
    upstream = re.search(r"upstream webcare \{(?P<body>[^}]*)\}", conf)
    assert upstream and "include webcare-servers.conf;" in upstream["body"]
    # idle upstream connections close before uvicorn's (5 s) would
    assert int(re.search(r"keepalive_timeout (\d+)s;", upstream["body"])[1]) < 5
    assert "include webcare-listen.conf;" in conf


def test_nginx_accepts_the_config(tmp_path):
    """`nginx -t` on the mounted folder, its one host name (the compose service) pointed at
    this machine, as Docker's DNS is not here."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        need_or_skip("checking deploy/nginx.conf needs Debian's nginx (/usr/sbin/nginx)")
    folder = tmp_path / "webcare"
    folder.mkdir()
    (folder / "nginx.conf").symlink_to(ROOT / "deploy" / "nginx.conf")
    (folder / "webcare-listen.conf").symlink_to(ROOT / "deploy" / "webcare-listen.conf")
    servers = (ROOT / "deploy" / "webcare-servers.conf").read_text(encoding="utf-8")
    (folder / "webcare-servers.conf").write_text(servers.replace("server web:", "server 127.0.0.1:"))
    done = subprocess.run([nginx, "-t", "-c", str(folder / "nginx.conf"), "-e", str(tmp_path / "error.log"),
                           "-g", f"pid {tmp_path / 'nginx.pid'};"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


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
