"""The class link: the address of the screen a presenter shows, as text and as a QR code students can scan from
the back of a room (made here by segno, no web service), and whether students' devices can reach it at all.
Nothing here touches Streamlit."""

from __future__ import annotations

import io
import ipaddress
import socket
from urllib.parse import urlencode, urlsplit, urlunsplit

LOCAL_NAMES = ("localhost", "localhost.localdomain")


def class_link(page_url: str, query: dict[str, str | list[str]]) -> str:
    """The link to this very screen: the page's address with the screen's settings (the address bar's query)."""
    parts = urlsplit(page_url)
    pairs = [(key, item) for key, value in sorted(query.items())
             for item in (value if isinstance(value, list) else [value])]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), ""))


def only_this_computer(link: str) -> bool:
    """True when the link names this computer itself (localhost, 127.x, ::1): other devices cannot open it."""
    host = urlsplit(link).hostname or ""
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def network_address() -> str | None:
    """This computer's address on the local network (e.g. 192.168.1.20), or None if it has none but loopback.
    A UDP "connection" sends nothing: it only asks the system which interface would carry it."""
    for probe in ("10.255.255.255", "192.168.255.255"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.connect((probe, 1))
                address = udp.getsockname()[0]
        except OSError:
            continue
        if not ipaddress.ip_address(address).is_loopback and address != "0.0.0.0":
            return address
    return None


def on_network(link: str, address: str) -> str:
    """The same link with this computer's network `address` in place of localhost (port and path kept)."""
    parts = urlsplit(link)
    netloc = address if parts.port is None else f"{address}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def qr_png(text: str, scale: int = 8) -> bytes:
    """A QR code of `text` as PNG bytes (error correction M: still readable when a projector smudges it), with the
    standard quiet border of 4 modules."""
    import segno

    if not text:
        raise ValueError("nothing to put in the QR code")
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
