"""Everything in deploy/ is exercised: the example environment names every setting, the
nginx site loads, the alert rules pass promtool (and fire when they should), the systemd
units parse, and the runbook explains every alert."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from services.platform.settings import Settings
from tests.deploy_support import DEPLOY, render_nginx, tool


def alert_names() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [rule["alert"] for group in rules["groups"] for rule in group["rules"]]


def test_the_example_environment_lists_every_setting() -> None:
    text = (DEPLOY / "switchboard.env.example").read_text()
    listed = set(re.findall(r"(?m)^#? ?SWITCHBOARD_([A-Z0-9_]+)=", text))
    expected = {name.upper() for name in Settings.model_fields}
    assert expected - listed == set(), "settings missing from deploy/switchboard.env.example"
    assert listed - expected == set(), "deploy/switchboard.env.example names unknown settings"


def test_the_example_environment_is_a_valid_production_configuration(tmp_path: Path) -> None:
    values = {}
    for line in (DEPLOY / "switchboard.env.example").read_text().splitlines():
        if line.startswith("SWITCHBOARD_"):
            name, _, value = line.partition("=")
            values[name.removeprefix("SWITCHBOARD_").lower()] = value
    settings = Settings(_env_file=None, **values)  # type: ignore[arg-type]
    assert settings.queue_url and settings.queue_url.startswith("redis://")
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.public_url.startswith("https://") and not settings.embedded_worker


def test_the_nginx_site_loads(tmp_path: Path) -> None:
    nginx = tool("nginx", "/usr/sbin/nginx")
    conf = render_nginx(tmp_path, web_ports=[18001, 18002], https_port=18443, http_port=18080)
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_nginx_site_never_trusts_forwarded_headers_from_clients() -> None:
    site = (DEPLOY / "nginx" / "switchboard.conf").read_text()
    # Set from the connection, not appended to what the client sent.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "$proxy_add_x_forwarded_for" not in site
    assert "proxy_buffering off;" in site.split("location = /console/events", 1)[1].split("}")[0]
    env = (DEPLOY / "switchboard.env.example").read_text()
    assert "SWITCHBOARD_FORWARDED_ALLOW_IPS=127.0.0.1" in env


def test_the_alert_rules_and_scrape_config_pass_promtool(tmp_path: Path) -> None:
    promtool = tool("promtool")
    rules = DEPLOY / "prometheus" / "alerts.yml"
    checked = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = tmp_path / "prometheus.yml"
    config.write_text(
        (DEPLOY / "prometheus" / "prometheus.yml")
        .read_text()
        .replace("/etc/prometheus/switchboard-alerts.yml", str(rules))
    )
    checked = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alerts_fire_on_the_conditions_the_runbook_describes() -> None:
    promtool = tool("promtool")
    tested = subprocess.run(
        [promtool, "test", "rules", str(DEPLOY / "prometheus" / "alerts_test.yml")],
        capture_output=True,
        text=True,
        check=False,
        cwd=DEPLOY / "prometheus",
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_systemd_units_parse(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    switchboard = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "switchboard"
    for unit in (DEPLOY / "systemd").iterdir():
        (tmp_path / unit.name).write_text(
            unit.read_text().replace("/opt/switchboard/.venv/bin/switchboard", str(switchboard))
        )
    units = [
        "switchboard-web@8001.service",
        "switchboard-worker@1.service",
        *(p.name for p in tmp_path.iterdir() if "@" not in p.name),
    ]
    verified = subprocess.run(
        [analyze, "verify", "--man=no", *(f"./{unit}" for unit in units)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"SYSTEMD_LOG_LEVEL": "warning", "PATH": "/usr/bin:/bin"},
    )
    problems = [
        line
        for line in (verified.stdout + verified.stderr).splitlines()
        # Users and folders of the production host do not exist here.
        if line.strip() and "switchboard" in line and "does not exist" not in line
    ]
    assert problems == []


def test_the_runbook_explains_every_alert() -> None:
    runbook = (DEPLOY / "README.md").read_text()
    headings = set(re.findall(r"(?m)^#+ (Switchboard\w+)", runbook))
    assert set(alert_names()) <= headings
    for section in ("First start", "Upgrade", "master key", "Backup", "fail", "Alerts"):
        assert section.lower() in runbook.lower()
