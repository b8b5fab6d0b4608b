"""deploy/ as the tests use it: the nginx site rendered with test paths and ports, and
the tools (nginx, promtool, systemd-analyze) that `make test` installs when missing."""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
IN_CI = os.environ.get("CI", "").lower() == "true"


def tool(name: str, *fallbacks: str) -> str:
    """The tool's path; a skip when it is missing, a failure under CI=true."""
    found = shutil.which(name) or next((p for p in fallbacks if Path(p).exists()), None)
    if found is None:
        message = f"{name} is not installed (`make test` installs it)"
        if IN_CI:
            pytest.fail(message + "; required when CI=true")
        pytest.skip(message)
    return found


def self_signed(workdir: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, as the TLS terminator's test pair."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "311.example.gov")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("311.example.gov"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "switchboard.crt", workdir / "switchboard.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def render_nginx(workdir: Path, *, web_ports: list[int], https_port: int, http_port: int) -> Path:
    """deploy/nginx as shipped, with only its paths and ports changed: a whole nginx.conf
    that runs unprivileged in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed(workdir)
    site = (DEPLOY / "nginx" / "switchboard.conf").read_text()
    upstream = "\n".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in web_ports
    )
    site, count = re.subn(
        r"(?m)^    server 127\.0\.0\.1:80\d\d .*;\n(?:    server 127\.0\.0\.1:80\d\d .*;\n)*",
        upstream + "\n",
        site,
    )
    assert count == 1, "the upstream block moved; update render_nginx"
    for old, new in {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "/etc/ssl/certs/switchboard.crt": str(cert),
        "/etc/ssl/private/switchboard.key": str(key),
        "/var/log/nginx/switchboard.access.log": str(workdir / "access.log"),
    }.items():
        assert old in site, f"{old!r} is no longer in the nginx site; update render_nginx"
        site = site.replace(old, new)
    (workdir / "site.conf").write_text(site)
    shutil.copy(DEPLOY / "nginx" / "switchboard-log-format.conf", workdir / "log-format.conf")
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes 1;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {workdir / "body"};
    proxy_temp_path {workdir / "proxy"};
    fastcgi_temp_path {workdir / "fastcgi"};
    uwsgi_temp_path {workdir / "uwsgi"};
    scgi_temp_path {workdir / "scgi"};
    include {workdir / "log-format.conf"};
    include {workdir / "site.conf"};
}}
"""
    )
    return conf
