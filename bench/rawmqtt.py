"""A minimal MQTT 3.1.1 client on a plain socket, for the load generator and the counter.

A paho or aiomqtt client costs far more CPU per message than the bridge is
allowed to, so on a 2-core machine it would measure itself. This one does
only what the benchmarks need, with no Python work per message on the hot
path beyond a slice and a ``send``:

    sock = connect("127.0.0.1", 1883, "bench-pub")
    packet = publish_packet("zigbee2mqtt/knob_00001", b'{"action":"single"}')   # once
    sock.sendall(packet)                                                    # per message
    subscribe(sock, ["knobflow/+/gesture"])
    reader = PacketReader()
    for topic, payload in reader.feed(sock.recv(65536)): ...

Only QoS 0, clean sessions, no keepalive traffic (a keepalive of 0 means
none, so long runs need no PINGREQ).
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import Iterable, Iterator

__all__ = [
    "PacketReader",
    "connect",
    "disconnect",
    "publish_packet",
    "split_packets",
    "subscribe",
]

CONNECT, CONNACK, PUBLISH, SUBSCRIBE, SUBACK, DISCONNECT = 1, 2, 3, 8, 9, 14


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(data)) + data


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + _varint(len(body)) + body


def publish_packet(topic: str, payload: bytes, retain: bool = False) -> bytes:
    """A complete QoS 0 PUBLISH packet, ready to write."""
    return _packet((PUBLISH << 4) | (1 if retain else 0), _string(topic) + payload)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        data += chunk
    return data


def _read_packet(sock: socket.socket) -> tuple[int, bytes]:
    first = _recv_exactly(sock, 1)[0]
    length, shift = 0, 0
    while True:
        byte = _recv_exactly(sock, 1)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return first, _recv_exactly(sock, length) if length else b""


def connect(host: str, port: int, client_id: str, timeout: float = 10.0) -> socket.socket:
    """A connected, blocking socket with TCP_NODELAY, after a successful CONNACK."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = _string("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 0) + _string(client_id)
    sock.sendall(_packet(CONNECT << 4, body))
    first, rest = _read_packet(sock)
    if first >> 4 != CONNACK or len(rest) != 2 or rest[1] != 0:
        sock.close()
        raise ConnectionError(f"the broker refused the connection: {first:#x} {rest!r}")
    return sock


def subscribe(sock: socket.socket, filters: Iterable[str], packet_id: int = 1) -> None:
    """Subscribe at QoS 0 and wait for the SUBACK (call before reading anything else)."""
    body = struct.pack("!H", packet_id) + b"".join(_string(f) + b"\x00" for f in filters)
    sock.sendall(_packet((SUBSCRIBE << 4) | 0x02, body))
    while True:
        first, rest = _read_packet(sock)
        if first >> 4 == SUBACK:
            if any(code == 0x80 for code in rest[2:]):
                raise ConnectionError("the broker refused a subscription")
            return


def disconnect(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.sendall(bytes([DISCONNECT << 4, 0]))
    sock.close()


def split_packets(data: bytes | bytearray) -> tuple[list[tuple[int, int, int]], int]:
    """The complete packets at the start of ``data`` as ``(first byte, body start, body end)``,
    and where the incomplete rest begins."""
    out = []
    pos, size = 0, len(data)
    while pos + 2 <= size:
        first = data[pos]
        length, shift, index = 0, 0, pos + 1
        while True:
            if index >= size:
                return out, pos
            byte = data[index]
            index += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        end = index + length
        if end > size:
            break
        out.append((first, index, end))
        pos = end
    return out, pos


class PacketReader:
    """Turns a byte stream into ``(topic, payload)`` of its PUBLISH packets."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> Iterator[tuple[str, bytes]]:
        buffer = self._buffer + data if self._buffer else data
        packets, rest = split_packets(buffer)
        self._buffer = buffer[rest:]
        for first, start, end in packets:
            if first >> 4 != PUBLISH:
                continue
            topic_len = (buffer[start] << 8) | buffer[start + 1]
            topic_end = start + 2 + topic_len
            payload_start = topic_end + (2 if first & 0x06 else 0)  # QoS > 0: a packet id
            yield buffer[start + 2 : topic_end].decode(), buffer[payload_start:end]
