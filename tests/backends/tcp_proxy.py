"""A TCP forwarder on an ephemeral port that a test can cut, to drop or refuse connections."""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    """Forwards 127.0.0.1:port to a target; `cut()` drops every connection and refuses new ones
    (accepted, then closed at once) until `mend()`."""

    def __init__(self, target_port: int, source: str = "127.0.0.1") -> None:
        self.target = ("127.0.0.1", target_port)
        self.source = source  # the address the server sees the client connect from
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.broken = False
        self.accepted = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                self.accepted += 1
                if self.broken:
                    client.close()
                    continue
            try:
                upstream = socket.create_connection(
                    self.target, timeout=10, source_address=(self.source, 0)
                )
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            self._close(source)
            self._close(sink)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def drop(self) -> None:
        """Close every open connection, as a server restart or a NAT timeout would."""
        with self._lock:
            current = list(self._open)
        for sock in current:
            self._close(sock)

    def cut(self) -> None:
        with self._lock:
            self.broken = True
        self.drop()

    def mend(self) -> None:
        with self._lock:
            self.broken = False

    def close(self) -> None:
        self.listener.close()
        self.drop()
