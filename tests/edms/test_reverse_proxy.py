"""infra/nginx/edms.conf is a configuration nginx accepts, as an operator would install it.

The example is included in a minimal nginx.conf the way Debian's sites-enabled are, with a
self-signed certificate where it names the office's, and checked with `nginx -t`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

EXAMPLE = Path(settings.BASE_DIR) / "infra" / "nginx" / "edms.conf"

# CI installs nginx (infra/install-services.sh): there the test never skips.
pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists() and not os.getenv("CI"),
    reason="nginx is not installed (infra/install-services.sh installs it)",
)


def self_signed(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=edms.example.org",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


def test_nginx_accepts_the_example(tmp_path):
    certificate, key = self_signed(tmp_path)
    site = EXAMPLE.read_text()
    site = site.replace("/etc/ssl/edms/fullchain.pem", str(certificate))
    site = site.replace("/etc/ssl/edms/privkey.pem", str(key))
    (tmp_path / "edms.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/error.log;\n"
        "events {}\n"
        "http {\n"
        f"    access_log {tmp_path}/access.log;\n"
        f"    client_body_temp_path {tmp_path}/body;\n"
        f"    proxy_temp_path {tmp_path}/proxy;\n"
        f"    include {tmp_path}/edms.conf;\n"
        "}\n"
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
    assert "test is successful" in result.stderr
