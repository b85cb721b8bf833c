"""Which addresses the worker may connect to, checked where the socket is opened.

Sources and callbacks are URLs chosen by clients; without a check they would let a client make
the worker read its cloud metadata (169.254.169.254), its own admin ports or the private
network. The check sits in an httpcore network backend, so it sees the address actually
connected to (after DNS, for every redirect hop, immune to DNS rebinding between check and
connect), not the host name in the URL.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable, Sequence

import httpcore
import httpx

from compositor.errors import SourceUnavailable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# httpcore's own type for socket options (int, bytes or an unset value).
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class AddressRefused(SourceUnavailable):
    """Raised when a URL's host resolves to an address the worker may not reach."""

    code = "source_address_refused"


def is_refused(address: IPAddress, allow: Sequence[Network]) -> bool:
    """Loopback, private, link-local, multicast, reserved and unspecified addresses are refused
    unless one of ``allow`` contains them; public unicast addresses are always allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if any(address in network for network in allow):
        return False
    return not address.is_global or address.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    # scope ids ("fe80::1%eth0") are not part of the address
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses the policy allows; refuses the host if any address is not."""

    def __init__(self, allow: Sequence[Network]) -> None:
        self.allow = tuple(allow)
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port)
        refused = [str(a) for a in addresses if is_refused(a, self.allow)]
        if refused:
            raise AddressRefused(
                f"{host} resolves to {', '.join(refused)}, which the worker may not reach"
            )
        # Connect to a checked address itself, not the name (no second lookup). TLS still
        # verifies and sends SNI for the original host: httpcore passes it to start_tls.
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in dict.fromkeys(addresses):  # in resolver order, like create_connection
            try:
                return self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # getaddrinfo answers at least one address or raises
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        raise AddressRefused("unix sockets are not reachable from the worker")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport with the guarded network backend under its connection pool."""

    def __init__(
        self, allow: Sequence[Network], *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(trust_env=False)
        # httpx does not take a network backend, httpcore's pool does: replace the pool it built.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=20,
            max_keepalive_connections=5,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(allow),
        )


def guarded_client(allow: Sequence[Network], timeout: httpx.Timeout) -> httpx.Client:
    """A client that follows no redirects by itself (callers re-check every hop), ignores proxy
    variables (a proxy would connect for us, unchecked) and reaches only allowed addresses."""
    return httpx.Client(
        transport=GuardedTransport(allow),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
