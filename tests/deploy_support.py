"""deploy/ as the tests use it: the nginx site rendered with test paths and ports, and
the tools (nginx, promtool, systemd-analyze) that `make test` installs when missing."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.ports import free_port

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


def self_signed(workdir: Path, *, ca: bool = False) -> tuple[Path, Path]:
    """A certificate and key (PEM files) for 311.example.gov and 127.0.0.1, as the TLS
    terminator's or a test server's pair; ``ca``: marked a CA, so that a client can
    trust it as its own root."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "311.example.gov")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
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
    )
    if ca:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
    certificate = builder.sign(key, hashes.SHA256())
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


class PrivateRedis:
    """redis-server on a free port with no persistence: a restart comes back empty."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        deadline = time.monotonic() + 10
        while not answers():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class TcpProxy:
    """A TCP relay to ``target`` that a test can cut (every connection dropped, new ones
    refused, as when a server goes down) and restore on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
