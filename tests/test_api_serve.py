"""``valuetrace serve`` as a real server process on 127.0.0.1, spoken to over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

DOCUMENT = Path(__file__).parent / "data" / "epcis" / "gs1" / "Example_9.6.1-ObjectEvent.jsonld"
HOST = "127.0.0.1"
# Generous, so a slow CI machine does not fail the test; it bounds waiting, it measures nothing.
STARTUP_TIMEOUT_SECONDS = 60.0

# Runs the serve command through a Typer app of its own, the same way the main CLI registers it.
LAUNCHER = """
import sys
import typer
from valuetrace.api._cli import register

app = typer.Typer()


@app.callback()
def main() -> None:
    pass


register(app)
app(sys.argv[1:])
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"the server exited with code {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base_url}/eventTypes", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer on {base_url} within {STARTUP_TIMEOUT_SECONDS} s")


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        LAUNCHER,
        "serve",
        "--db",
        database_url,
        "--host",
        HOST,
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base_url = f"http://{HOST}:{port}"
    try:
        _wait_until_ready(process, base_url)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_serve_capture_and_query(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30.0) as client:
        captured = client.post(
            "/capture",
            content=DOCUMENT.read_bytes(),
            headers={"Content-Type": "application/ld+json"},
        )
        job = client.get(captured.headers["location"])
        queried = client.get("/events", params={"EQ_bizStep": "receiving"})

    assert captured.status_code == 202, captured.text
    assert captured.headers["gs1-epcis-version"] == "2.0.0"
    assert job.status_code == 200
    assert job.json()["success"] is True
    assert queried.status_code == 200
    events = queried.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [event["bizStep"] for event in events] == ["receiving"]


def test_serve_rejects_announced_oversized_body(server: str) -> None:
    # Announce 65 MiB, over the default 64 MiB limit, and send none of it: the server must
    # respond from the headers alone.
    host, port = server.removeprefix("http://").split(":")
    request = (
        "POST /capture HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {65 * 1024 * 1024}\r\n"
        "\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30.0) as connection:
        connection.sendall(request.encode("ascii"))
        head = connection.recv(65536).decode("latin-1")

    status_line = head.split("\r\n", 1)[0]
    assert status_line.startswith("HTTP/1.1 413 ")
    assert "application/problem+json" in head.lower()
