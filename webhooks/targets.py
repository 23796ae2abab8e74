"""Where webhooks may be sent: public addresses only, checked when a URL is set and again, after
DNS resolution, at every connection.

A webhook's URL is chosen by an API client, and edms POSTs to it from inside the office's
network; unchecked, it would reach whatever the URL names: this machine's loopback services, the
intranet, a cloud's metadata service (169.254.169.254, fd00:ec2::254) holding its credentials.
So:

- a URL whose host is an address that is not public is refused when the webhook is created or
  changed, in every spelling a resolver accepts (`2130706433`, `0177.0.0.1`, `0x7f.1`,
  `::ffff:127.0.0.1`), as is `localhost`;
- at delivery, the host is resolved once, every address it resolves to is checked, and the
  connection goes to a checked address: a name that resolves to a private address, or is
  switched to one after the webhook was accepted (DNS rebinding), is refused.

`EDMS_WEBHOOK_ALLOWED_NETWORKS` names networks that may receive webhooks even so (a receiver on
the office's own network; `127.0.0.0/8` in tests). Metadata services are refused whatever it says.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

from django.conf import settings
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance metadata services (AWS, its IPv6 form and ECS, Oracle, Alibaba): they hand out
# the machine's credentials, so no setting opens them.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",
        "fd00:ec2::254",
        "169.254.170.2",
        "192.0.0.192",
        "100.100.100.200",
    )
)
# Names that always mean this machine, whatever DNS says.
_LOCAL_NAMES = re.compile(r"(.+\.)?localhost|localhost\.localdomain|ip6-(localhost|loopback)")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_INET_ATON_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


class TargetRefused(Exception):
    """The webhook's host is, or resolves to, an address edms may not send to."""


def host_problem(host: str) -> str:
    """Why a webhook URL naming `host` is refused (empty: it is not, though a name is checked
    again after resolution at every delivery)."""
    name = host.rstrip(".").lower()
    address = literal_address(name)
    if address is not None:
        return address_problem(address)
    if _LOCAL_NAMES.fullmatch(name):
        loopback = ipaddress.ip_address("127.0.0.1")
        if not _allowed(loopback):
            return f"{host} is this machine: webhooks are sent to public addresses only"
    return ""


def literal_address(host: str) -> Address | None:
    """The address `host` spells, None for a name. IPv4 is read as the C resolver reads it
    (`inet_aton`: one to four parts, each decimal, octal `0…` or hex `0x…`), so `2130706433`
    and `0177.1` are the loopback address they connect to."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_INET_ATON_PART.fullmatch(p) for p in parts):
        return None
    numbers = [_inet_aton_number(part) for part in parts]
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (4 - len(leading)):
        return None
    value = last
    for position, number in enumerate(leading):
        value += number << (24 - 8 * position)
    return ipaddress.IPv4Address(value)


def _inet_aton_number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if part.startswith("0"):
        return int(part, 8)
    return int(part)


def address_problem(address: Address) -> str:
    """Why edms may not send to `address` (empty: it may)."""
    forms = [address, *_embedded_ipv4(address)]
    if any(form in METADATA_ADDRESSES for form in forms):
        return f"{address} is a cloud metadata service"
    if any(_allowed(form) for form in forms):
        return ""
    if not all(_public(form) for form in forms):
        return (
            f"{address} is not a public address (loopback, private, link-local, multicast or "
            "reserved); see EDMS_WEBHOOK_ALLOWED_NETWORKS"
        )
    return ""


def _embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to (mapped, 6to4, Teredo, NAT64)."""
    if address.version == 4:
        return []
    embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if address in _NAT64:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [form for form in embedded if form is not None]


def _public(address: Address) -> bool:
    site_local = address.version == 6 and address.is_site_local
    return address.is_global and not (address.is_multicast or address.is_reserved or site_local)


def _allowed(address: Address) -> bool:
    return any(address in network for network in allowed_networks())


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.EDMS_WEBHOOK_ALLOWED_NETWORKS]


def checked_addresses(host: str, port: int) -> list[Address]:
    """Resolve `host` once; every address it resolves to, each checked (`TargetRefused` if one
    is refused: a name that mixes public and private addresses is not to be trusted)."""
    infos = socket.getaddrinfo(host, port, connection.allowed_gai_family(), socket.SOCK_STREAM)
    addresses = _unique(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos)
    for address in addresses:
        if problem := address_problem(address):
            raise TargetRefused(f"{host} resolves to {address}, which is refused: {problem}")
    return addresses


def _unique(addresses: Iterable[Address]) -> list[Address]:
    return list(dict.fromkeys(addresses))


class _CheckedConnection:
    """Connects only to addresses `checked_addresses` let through, never to a second lookup."""

    def _new_conn(self) -> socket.socket:
        try:
            addresses = checked_addresses(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return connection.create_connection(
                    (str(address), self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                failure = ConnectTimeoutError(self, f"Connection to {self.host} timed out")
                failure.__cause__ = exc
            except OSError as exc:
                failure = NewConnectionError(self, f"Failed to establish a new connection: {exc}")
                failure.__cause__ = exc
        raise failure or NewConnectionError(self, f"{self.host} resolves to no address")


class CheckedHTTPConnection(_CheckedConnection, HTTPConnection):
    pass


class CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    pass  # TLS still verifies the certificate against the URL's host name (SNI too)


class CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = CheckedHTTPConnection


class CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = CheckedHTTPSConnection


class CheckedPoolManager(PoolManager):
    """A `PoolManager` whose connections go only to checked addresses."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pool_classes_by_scheme = {
            "http": CheckedHTTPConnectionPool,
            "https": CheckedHTTPSConnectionPool,
        }
