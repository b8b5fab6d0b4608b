"""Client addresses, kept only as far as their network: /24 for IPv4, /48 for IPv6.

Enough to throttle guessing and to read an access log, not enough to single out a home.
"""

from __future__ import annotations

import ipaddress


def client_network(host: str | None) -> str:
    """The network of a client address, e.g. ``203.0.113.0/24``; ``unknown`` when unreadable."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
