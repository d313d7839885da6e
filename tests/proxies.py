"""nginx, started by a test with the generated deploy/nginx.conf in front of daphnes."""

import re
import subprocess
from types import SimpleNamespace

from servers import free_port

# nginx's main configuration; the generated site config is included as it would be
# from /etc/nginx/sites-enabled. The log format names the daphne each request reached.
NGINX_MAIN = """
daemon off;
user root;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{}}
http {{
    include /etc/nginx/mime.types;
    log_format upstreams '$request_uri $upstream_addr';
    access_log {dir}/access.log upstreams;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/site.conf;
}}
"""


def self_signed_certificate(directory):
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", directory / "key.pem", "-out", directory / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    return directory / "cert.pem", directory / "key.pem"


def site_config(project, directory, daphne_ports, http_port, https_port, certificate, key):
    """The generated nginx config, with this machine's ports and paths in place of the
    deployment's."""
    config = (project / "deploy" / "nginx.conf").read_text()
    upstreams = "".join(f"    server 127.0.0.1:{port};\n" for port in daphne_ports)
    replacements = [
        (r"(    server 127\.0\.0\.1:\d+;\n)+", upstreams),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        (r"ssl_certificate .*;", f"ssl_certificate {certificate};"),
        (r"ssl_certificate_key .*;", f"ssl_certificate_key {key};"),
        (r"/srv/\w+/staticfiles/", f"{project}/staticfiles/"),
        (r"/srv/\w+/media/", f"{directory}/media/"),
    ]
    for pattern, replacement in replacements:
        config, count = re.subn(pattern, replacement, config)
        assert count == 1, f"{pattern!r} matched {count} times in deploy/nginx.conf"
    return config


def behind_nginx(site, daphne_ports, directory):
    """nginx on HTTPS in front of daphne_ports, started among site's processes."""
    http_port, https_port = free_port(), free_port()
    certificate, key = self_signed_certificate(directory)
    (directory / "site.conf").write_text(
        site_config(site.project, directory, daphne_ports, http_port, https_port, certificate, key)
    )
    (directory / "nginx.conf").write_text(NGINX_MAIN.format(dir=directory))
    nginx_command = ["nginx", "-c", directory / "nginx.conf", "-p", directory]
    nginx = site.processes.start("nginx", nginx_command, port=https_port)
    return SimpleNamespace(
        url=f"https://127.0.0.1:{https_port}",
        http_url=f"http://127.0.0.1:{http_port}",
        certificate=certificate,
        daphne_ports=daphne_ports,
        process_logs=[server.log_path for server in site.processes.servers],
        access_log=directory / "access.log",
        nginx=nginx,
    )
