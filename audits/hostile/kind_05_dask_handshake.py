"""#19 kind 5: the Dask scheduler handshake.

A server on the loopback interface (127.0.0.1, an ephemeral port, in a thread) stands at the
scheduler address: silent after accepting, closing at once, or answering garbage of several kinds
(an 8-byte frame count of exabytes, 0xff, an HTTP or SSH banner, a partial header, an echo of
what Dask sends). The case calls ``open_executor("dask", scheduler=…)`` (bounded in a thread) or
runs ``ramplab figures --executor dask --scheduler …`` in a child process (bounded by a timeout).
"ok": an OSError/TimeoutError naming the address (the CLI: exit status 2, the address named, no
traceback); "unclear": another error or a traceback; "hang": still waiting after the bound;
"silent": accepted as a scheduler.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading

BOUND = 40.0
EXABYTES = b"\x00\x00\x00\x00\x00\x00\x00\x30garbage"


class Server:
    def __init__(self, payload=None, close=False, echo=False):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.payload, self.close_after, self.echo, self.conns = payload, close, echo, []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.echo:
                threading.Thread(target=self._echo, args=(conn,), daemon=True).start()
                continue
            try:
                if self.payload:
                    conn.sendall(self.payload)
                if self.close_after:
                    conn.close()
            except OSError:
                pass

    def _echo(self, conn):
        try:
            while data := conn.recv(65536):
                conn.sendall(data)
        except OSError:
            pass

    def stop(self):
        self.sock.close()
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()


def _api_case(**server_kw):
    def case():
        from ramplab.sweeps import open_executor

        server = Server(**server_kw)
        outcome = []

        def call():
            try:
                with open_executor("dask", scheduler=server.address):
                    outcome.append("silent")
            except (OSError, TimeoutError) as exc:
                outcome.append("ok" if server.address in str(exc) or "127.0.0.1" in str(exc) else "unclear")
            except BaseException:  # noqa: BLE001 - MemoryError, ValueError from the frame reader, …
                outcome.append("unclear")

        thread = threading.Thread(target=call, daemon=True)
        thread.start()
        thread.join(BOUND)
        server.stop()
        if thread.is_alive():
            return "hang"
        return outcome[0]
    return case




def _cli_case(**server_kw):
    def case():
        server = Server(**server_kw)
        out = tempfile.mkdtemp(prefix="k05-")
        try:
            child = subprocess.run(
                [sys.executable, "-m", "ramplab", "figures", "--only", "sfo_critical_batch", "--quick",
                 "--no-cache", "--out", out, "--executor", "dask", "--scheduler", server.address],
                capture_output=True, text=True, timeout=BOUND + 30)
        except subprocess.TimeoutExpired:
            return "hang"
        finally:
            server.stop()
        if child.returncode == 2 and server.address in child.stderr and "Traceback" not in child.stderr:
            return "ok"
        if child.returncode == 0:
            return "silent"
        return "unclear"
    return case


def _worker_address_case():
    from distributed import LocalCluster

    from ramplab.sweeps import open_executor

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        worker = next(iter(cluster.scheduler.workers))
        outcome = []

        def call():
            try:
                with open_executor("dask", scheduler=worker) as ex:
                    ex.submit(pow, 2, 3).result(timeout=BOUND)
                    outcome.append("silent")
            except (OSError, TimeoutError) as exc:
                outcome.append("ok" if worker in str(exc) else "unclear")
            except BaseException:  # noqa: BLE001
                outcome.append("unclear")

        thread = threading.Thread(target=call, daemon=True)
        thread.start()
        thread.join(BOUND)
        return "hang" if thread.is_alive() else outcome[0]


CASES = [
    ("api_silent_server", _api_case()),
    ("api_exabyte_frame_count", _api_case(payload=EXABYTES)),
    ("api_0xff_bytes", _api_case(payload=b"\xff" * 64)),
    ("api_http_banner", _api_case(payload=b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")),
    ("api_ssh_banner", _api_case(payload=b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")),
    ("api_one_byte_then_silent", _api_case(payload=b"\x01")),
    ("api_partial_header_then_silent", _api_case(payload=b"\x01\x00\x00\x00")),
    ("api_small_frame_count_then_silent", _api_case(payload=b"\x01\x00\x00\x00\x00\x00\x00\x00")),
    ("api_garbage_then_close", _api_case(payload=b"\xde\xad\xbe\xef" * 8, close=True)),
    ("api_close_at_once", _api_case(close=True)),
    ("api_echo_server", _api_case(echo=True)),
    ("api_dask_worker_address", _worker_address_case),
    ("cli_silent_server", _cli_case()),
    ("cli_exabyte_frame_count", _cli_case(payload=EXABYTES)),
    ("cli_http_banner", _cli_case(payload=b"HTTP/1.1 200 OK\r\n\r\n<html>")),
    ("cli_partial_header_then_silent", _cli_case(payload=b"\x05\x00\x00")),
    ("cli_echo_server", _cli_case(echo=True)),
]
