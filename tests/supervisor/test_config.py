"""podium.yaml: a good file becomes specs; every mistake is named by its field and its line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from podium.supervisor.config import Backoff, ConfigError, load, parse

HELLO = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "hello.asl.json").write_text(HELLO)
    path = tmp_path / "podium.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text))
    return str(caught.value).replace(f"{tmp_path}/", "").splitlines()


def test_a_full_file_becomes_specs_with_paths_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "saga.asl.yaml").write_text("StartAt: P\nStates:\n  P: {Type: Pass, End: true}\n")
    config = load(
        write(
            tmp_path,
            """
            server:
              db: data/podium.db
              port: 0
              functions: [functions.py, some.module]
              transport: redis://localhost:6379/0
            state_machines:
              Hello: hello.asl.json
              Saga: {definition: saga.asl.yaml, type: EXPRESS}
            activities: [payment-auth]
            services:
              payment-auth:
                command: python -m podium.worker services.payment --transport "$X"
                replicas: 2
                environment: {FAULT_RATE: 0.05, VERBOSE: true}
                working_dir: svc
                port: 9100
                restart: on-failure
                backoff: {initial: 500ms, max: 1m, factor: 3, reset_after: 2m}
                stop_grace: 3s
                health:
                  http: {url: "http://127.0.0.1:{port}/health", timeout: 2s}
                  heartbeat: {file: "run/{worker}.hb", max_age: 10}
                  period: 1s
                  failure_threshold: 2
                  start_period: 0
            """,
        )
    )
    assert config.server.db == str(tmp_path / "data/podium.db")
    assert config.server.functions == (str(tmp_path / "functions.py"), "some.module")
    assert config.server.transport == "redis://localhost:6379/0"
    assert config.state_file == tmp_path / "data/podium.db.supervisor.json"
    hello, saga = config.state_machines
    assert (hello.name, hello.type, json.loads(hello.definition)["StartAt"]) == ("Hello", "STANDARD", "P")
    assert saga.type == "EXPRESS"
    assert json.loads(saga.definition)["States"]["P"]["Type"] == "Pass"  # YAML handed over as JSON
    assert config.activities == ("payment-auth",)
    (svc,) = config.services
    assert svc.command == ("python", "-m", "podium.worker", "services.payment", "--transport", "$X")
    assert svc.environment == {"FAULT_RATE": "0.05", "VERBOSE": "true"}
    assert svc.working_dir == tmp_path / "svc"
    assert svc.restart == "on-failure"
    assert svc.backoff == Backoff(initial=0.5, max=60.0, factor=3.0, reset_after=120.0)
    assert svc.stop_grace == 3.0
    assert svc.health is not None and svc.health.http is not None and svc.health.heartbeat is not None
    assert svc.health.heartbeat.file == str(tmp_path / "svc/run/{worker}.hb")
    assert (svc.health.period, svc.health.failure_threshold, svc.health.start_period) == (1.0, 2, 0.0)
    assert svc.expand(svc.health.http.url, 2) == "http://127.0.0.1:9101/health"
    assert svc.worker_name(2) == "payment-auth-2"


def test_defaults_for_a_minimal_file(tmp_path: Path) -> None:
    config = load(write(tmp_path, "services:\n  s: {command: [sleep, '1']}\n"))
    assert config.server.port == 8083 and config.server.db == str(tmp_path / "podium.db")
    (svc,) = config.services
    assert (svc.replicas, svc.restart, svc.health, svc.port) == (1, "always", None, None)
    assert svc.backoff == Backoff()


def test_every_problem_is_reported_at_once_with_its_field_and_line(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """\
        server:
          port: 70000
        services:
          api:
            command: python app.py
            replicas: two
            restrat: always
            backoff: {initial: soon}
            health:
              http: {url: "localhost:{port}/health"}
              period: -1
        """,
    )
    text = "\n".join(lines)
    assert "podium.yaml:2: server.port: must be an integer between 0 and 65535, not 70000" in text
    assert 'podium.yaml:6: services.api.replicas: must be an integer between 0 and 1000, not "two"' in text
    assert "podium.yaml:7: services.api.restrat: unknown field (did you mean 'restart'?)" in text
    assert "services.api.backoff.initial: must be a duration" in text
    assert "services.api.health.http.url: must be an http:// or https:// URL" in text
    assert "podium.yaml:11: services.api.health.period: must be a positive duration" in text


def test_port_placeholder_needs_a_port(tmp_path: Path) -> None:
    lines = problems(tmp_path, "services:\n  web:\n    command: [serve, --port, '{port}']\n")
    assert lines == ["podium.yaml:3: services.web.command: uses {port}, but the service declares no port"]


def test_a_missing_command_and_a_bad_name(tmp_path: Path) -> None:
    text = "\n".join(problems(tmp_path, "services:\n  -bad name:\n    replicas: 1\n"))
    assert "services.-bad name: a service name is" in text
    assert "services.-bad name.command: is required" in text


def test_state_machine_problems_name_the_machine_and_the_definition(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}))
    text = "\n".join(
        problems(
            tmp_path,
            """
            state_machines:
              Missing: nowhere.json
              Broken: broken.json
              Typed: {definition: hello.asl.json, type: SLOW}
            """,
        )
    )
    assert "state_machines.Missing.definition: no such file" in text
    assert "state_machines.Broken.definition: broken.json: " in text and "/States/A" in text
    assert 'state_machines.Typed.type: must be one of STANDARD, EXPRESS, not "SLOW"' in text


def test_duplicate_keys_are_named(tmp_path: Path) -> None:
    text = "\n".join(problems(tmp_path, "services:\n  a: {command: x}\n  a: {command: y}\n"))
    assert "podium.yaml:3: services.a: appears twice" in text


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    assert "not valid YAML" in problems(tmp_path, "services: [unclosed\n")[0]
    assert problems(tmp_path, "- a\n- b\n") == ["podium.yaml:1: must be a mapping, not a list"]
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path / "absent.yaml")


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(initial=1, max=10, factor=2)
    assert [backoff.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    with pytest.raises(ConfigError, match=r"services.s.backoff.max: must be at least initial"):
        parse("services:\n  s: {command: x, backoff: {initial: 5s, max: 1s}}\n", Path("podium.yaml"))


def test_cli_up_reports_problems_on_stderr_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from podium.cli import main

    path = write(tmp_path, "services:\n  s: {command: x, replicas: -1}\n")
    assert main(["up", str(path)]) == 2
    err = capsys.readouterr().err
    assert "services.s.replicas: must be an integer between 0 and 1000, not -1" in err
    assert "Traceback" not in err
    good = write(tmp_path, "services:\n  s: {command: x, replicas: 2}\n")
    assert main(["up", str(good), "--check"]) == 0
    assert "valid (0 state machines, 1 services, 2 replicas)" in capsys.readouterr().out


def test_the_transport_is_checked_and_inprocess_queues_are_refused_to_services(tmp_path: Path) -> None:
    text = "\n".join(problems(tmp_path, "server: {transport: carrier-pigeon}\n"))
    assert "podium.yaml:1: server.transport: unknown transport 'carrier-pigeon'" in text
    text = "\n".join(problems(tmp_path, "server: {transport: inprocess}\nservices:\n  s: {command: x}\n"))
    assert "server.transport: inprocess queues live inside the server's process" in text
    config = load(write(tmp_path, "server: {transport: redis, broker_url: 'redis://10.0.0.1:6379/1'}\n"))
    assert (config.server.transport, config.server.broker_url) == ("redis", "redis://10.0.0.1:6379/1")


def test_the_documented_example_is_a_valid_file(tmp_path: Path) -> None:
    from podium.supervisor import config as module

    assert module.__doc__ is not None
    example = textwrap.dedent(module.__doc__.split("\n\n")[1])
    (tmp_path / "services").mkdir()
    (tmp_path / "saga.asl.yaml").write_text("StartAt: P\nStates:\n  P: {Type: Pass, End: true}\n")
    config = parse(example, tmp_path / "podium.yaml")
    (svc,) = config.services
    assert (svc.name, svc.replicas, svc.port_of(2), config.server.transport) == (
        "payment-auth",
        2,
        9101,
        "redis",
    )
