"""A private Dovecot for the tests: one per session, a fresh user per test, started on demand."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL = (
    "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
    "--no-install-recommends dovecot-imapd dovecot-lmtpd"
)
PASSWORD = "dovecot-test-secret"  # every user's password: the static passdb accepts any name
NOBODY = 65534  # Dovecot refuses mail owned by root; the mail files belong to nobody

CONFIG = """\
protocols = imap lmtp
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
instance_name = dovecot-test-{imap}
ssl = yes
ssl_cert = <{dir}/cert.pem
ssl_key = <{dir}/key.pem
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login
first_valid_uid = 1
mail_uid = {nobody}
mail_gid = {nobody}
mail_location = maildir:~/Maildir
mail_never_cache_fields = imap.envelope date.received
passdb {{
  driver = static
  args = password={password} nodelay=yes
}}
userdb {{
  driver = static
  args = home={dir}/mail/%u allow_all_users=yes
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    auto = create
    special_use = \\Sent
  }}
  mailbox Trash {{
    auto = create
    special_use = \\Trash
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
service auth {{
  user = root
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _self_signed(directory: Path) -> None:
    """A certificate for localhost and 127.0.0.1, for the TLS and STARTTLS tests."""
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip


def _wait_for_greeting(port: int, process: subprocess.Popen[bytes]) -> None:
    """An open port is not enough: the greeting comes once authentication is up."""
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.settimeout(5)
                if sock.recv(200).startswith(b"* OK"):
                    return
        except OSError:
            threading.Event().wait(0.02)  # not listening yet; a short real wait at startup
    raise RuntimeError("dovecot did not greet within 4 s")


@dataclass
class Dovecot:
    """A running Dovecot: IMAP (STARTTLS offered), IMAPS and LMTP on 127.0.0.1."""

    directory: Path
    imap_port: int
    imaps_port: int
    lmtp_port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls) -> Dovecot:
        # A port picked free can be taken by another test run before Dovecot binds it:
        # then try again on other ports.
        for attempt in (1, 2, 3):
            try:
                return cls._start_once()
            except RuntimeError:
                if attempt == 3:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _start_once(cls) -> Dovecot:
        binary = find_dovecot() or "dovecot"
        directory = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
        directory.chmod(0o711)  # every parent of the mail must be traversable
        for sub in ("run", "state"):
            (directory / sub).mkdir()
        mail = directory / "mail"
        mail.mkdir()
        os.chown(mail, NOBODY, NOBODY)
        _self_signed(directory)
        ports = {"imap": _free_port(), "imaps": _free_port(), "lmtp": _free_port()}
        config = directory / "dovecot.conf"
        config.write_text(CONFIG.format(dir=directory, nobody=NOBODY, password=PASSWORD, **ports))
        with (directory / "stderr.log").open("wb") as stderr:  # the child keeps its own copy
            process = subprocess.Popen(
                [binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr
            )
        try:
            _wait_for_greeting(ports["imap"], process)
        except RuntimeError as err:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=10)
            logs = [directory / "dovecot.log", directory / "stderr.log"]
            detail = " ".join(log.read_text()[-800:] for log in logs if log.exists())
            shutil.rmtree(directory, ignore_errors=True)
            raise RuntimeError(f"{err}: {detail}") from None
        return cls(directory, ports["imap"], ports["imaps"], ports["lmtp"], process)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)  # the ports are free only once it has exited
        shutil.rmtree(self.directory, ignore_errors=True)

    @property
    def config(self) -> Path:
        return self.directory / "dovecot.conf"

    def new_address(self, label: str) -> str:
        """A user nobody has used yet: any name logs in, so there is nothing to wait for."""
        return f"{label}-{uuid.uuid4().hex[:10]}@example.test"

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.directory / "cert.pem"))

    def server_context(self) -> ssl.SSLContext:
        """The same certificate for the SMTP relay's STARTTLS."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.directory / "cert.pem", self.directory / "key.pem")
        return context

    def doveadm(self, *args: str) -> str:
        done = subprocess.run(
            ["doveadm", "-c", str(self.config), *args],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return done.stdout.decode("utf-8", "replace")


_lock = threading.Lock()
_running: Dovecot | None = None


def find_dovecot() -> str | None:
    # Debian installs it in /usr/sbin, which a non-root PATH often lacks.
    return shutil.which("dovecot", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))


def require_dovecot() -> None:
    """Skip without Dovecot; under CI a missing server fails the run instead."""
    if find_dovecot():
        return
    message = f"dovecot is not installed; install it with: {INSTALL}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def dovecot() -> Dovecot:
    """The session's Dovecot, started on first use and stopped when the tests end."""
    global _running
    require_dovecot()
    with _lock:
        if _running is None or _running.process.poll() is not None:
            _running = Dovecot.start()
            atexit.register(_running.stop)
        return _running
