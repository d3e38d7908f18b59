"""The Dask scheduler handshake (#19 kind 5): a server at ``--scheduler`` that accepts and stays
silent, or answers garbage, ends within one overall deadline in an error naming the address (a
usage error, exit status 2, from ``ramplab figures``) — never a hang or an exabyte allocation.

Servers run in a thread on the loopback interface (127.0.0.1, an ephemeral port). Each call runs
in a daemon thread joined with a generous bound, so a hang fails the test instead of blocking it;
closing the server afterwards releases a call that hung.
"""

from __future__ import annotations

import socket
import threading
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

pytest.importorskip("distributed")

from ramplab.sweeps import open_executor  # noqa: E402

#: The deadline the tests set (RAMPLAB_SCHEDULER_TIMEOUT) and the hang bound (generous: not a timing test).
DEADLINE = "1.5"
HANG_BOUND = 90.0

# Dask frames start with an 8-byte little-endian count: 0x30 << 56 is what made Dask allocate 3 EiB.
EXABYTES = b"\x00\x00\x00\x00\x00\x00\x00\x30garbage"


class LoopbackServer:
    """Accepts connections on 127.0.0.1 and sends ``payload`` (or nothing) to each, then stays open
    (``close_after_send`` closes each connection after sending instead)."""

    def __init__(self, payload: bytes | None = None, close_after_send: bool = False) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.payload, self.close_after_send, self.conns = payload, close_after_send, []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            try:
                if self.payload:
                    conn.sendall(self.payload)
                if self.close_after_send:
                    conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()


def bounded(fn: Callable[[], Any], seconds: float = HANG_BOUND) -> BaseException | None:
    """Run ``fn`` in a daemon thread; the exception it ended with (None if it returned).
    Fails the test if it is still running after ``seconds``."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting for the scheduler after {seconds} s (a hang)"
    return outcome[0]


def _connect(address: str) -> None:
    with open_executor("dask", scheduler=address):
        pass


@pytest.fixture(autouse=True)
def short_deadline(monkeypatch):
    monkeypatch.setenv("RAMPLAB_SCHEDULER_TIMEOUT", DEADLINE)


def test_a_silent_server_ends_in_a_timeout_naming_the_address():
    server = LoopbackServer()
    try:
        exc = bounded(lambda: _connect(server.address))
    finally:
        server.close()
    assert isinstance(exc, TimeoutError), repr(exc)
    assert server.address in str(exc) and f"after {float(DEADLINE):g} s" in str(exc)
    assert "RAMPLAB_SCHEDULER_TIMEOUT" in str(exc)


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(min_size=1, max_size=96), close=st.booleans())
@example(payload=EXABYTES, close=False)
@example(payload=b"\xff" * 64, close=False)
@example(payload=b"HTTP/1.1 400 Bad Request\r\n\r\n", close=True)
def test_a_server_that_answers_garbage_ends_in_a_connection_error_naming_the_address(payload, close):
    server = LoopbackServer(payload, close_after_send=close)
    try:
        exc = bounded(lambda: _connect(server.address))
    finally:
        server.close()
    assert isinstance(exc, (ConnectionError, TimeoutError)), repr(exc)
    assert server.address in str(exc)


def test_the_deadline_can_be_overridden_and_is_checked(monkeypatch):
    server = LoopbackServer()
    try:
        exc = bounded(lambda: open_executor("dask", scheduler=server.address, scheduler_timeout=0.5).__enter__())
        assert isinstance(exc, TimeoutError) and "after 0.5 s" in str(exc), repr(exc)
        monkeypatch.setenv("RAMPLAB_SCHEDULER_TIMEOUT", "soon")
        exc = bounded(lambda: _connect(server.address))
        assert isinstance(exc, ValueError) and "RAMPLAB_SCHEDULER_TIMEOUT" in str(exc), repr(exc)
    finally:
        server.close()
    for bad, error in [(0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), ("5", TypeError),
                       (True, TypeError)]:
        with pytest.raises(error, match="scheduler_timeout"):
            open_executor("serial", scheduler_timeout=bad).__enter__()


def test_a_real_scheduler_passes_and_a_worker_address_is_refused():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with open_executor("dask", scheduler=cluster.scheduler_address) as ex:
            assert ex.submit(pow, 2, 10).result() == 1024
        worker = next(iter(cluster.scheduler.workers))
        exc = bounded(lambda: _connect(worker))
    assert isinstance(exc, ConnectionError) and "not a Dask scheduler" in str(exc), repr(exc)




@pytest.mark.parametrize("payload", [None, EXABYTES], ids=["silent", "garbage"])
def test_ramplab_figures_reports_a_usage_error_naming_the_scheduler(payload, tmp_path, capsys, booby_trapped):
    from ramplab.cli import main

    server = LoopbackServer(payload)
    codes: list[Any] = []

    def cli() -> None:
        try:
            main(["figures", "--only", "sfo_critical_batch", "--quick", "--out", str(tmp_path / "out"),
                  "--no-cache", "--executor", "dask", "--scheduler", server.address])
        except SystemExit as exc:
            codes.append(exc.code)
            raise

    try:
        bounded(cli)
    finally:
        server.close()
    assert codes == [2]
    err = capsys.readouterr().err
    assert f"argument --scheduler: cannot connect to {server.address!r}" in err and "Traceback" not in err
    assert booby_trapped == []
