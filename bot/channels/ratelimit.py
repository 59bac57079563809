"""Per-client rate limits for the web chat: in-memory token buckets, and the client's address.

A :class:`RateLimiter` keeps one token bucket per key (a session id, a client
address). A bucket holds at most ``burst`` tokens and refills at ``per_minute``
tokens a minute; each request takes one token, and a request that finds the
bucket empty is refused with the number of seconds until the next token.

Memory stays bounded: a bucket that has been idle long enough to be full again
is the same as no bucket, so it is dropped (oldest first, on every request); and
at most ``max_keys`` buckets are kept (beyond that the least recently used one
is dropped, which at worst lets that client start afresh).

The limits are per process (behind several Rasa server processes each has its own),
and a limiter is meant for one event loop: it takes no lock.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Optional, Tuple, Union

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

DEFAULT_MAX_KEYS = 100_000
# An IPv6 client usually has a whole /64 to pick addresses from.
IPV6_CLIENT_PREFIX = 64


class RateLimiter:
    """Token buckets by key; :meth:`take` says whether a request may go ahead."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if not per_minute > 0:
            raise ValueError("a rate limit needs a positive number of requests per minute")
        if burst < 1:
            raise ValueError("a rate limit's burst must be at least 1")
        if max_keys < 1:
            raise ValueError("a rate limiter must keep at least one bucket")
        self.per_minute = float(per_minute)
        self.burst = int(burst)
        self.max_keys = max_keys
        self._rate = self.per_minute / 60.0  # tokens per second
        self._refill_seconds = self.burst / self._rate  # from empty to full
        self._clock = clock
        # key -> (tokens, time of the last request); least recently used first.
        self._buckets: OrderedDict[str, Tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0.0 if the request may go ahead, else the seconds to wait."""
        now = self._clock()
        self._drop_idle(now)
        entry = self._buckets.pop(key, None)
        if entry is None:
            tokens = float(self.burst)
        else:
            tokens, last = entry
            tokens = min(float(self.burst), tokens + max(0.0, now - last) * self._rate)
        if tokens >= 1.0:
            tokens -= 1.0
            wait = 0.0
        else:
            wait = (1.0 - tokens) / self._rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def _drop_idle(self, now: float) -> None:
        while self._buckets:
            key, (_, last) = next(iter(self._buckets.items()))
            if now - last < self._refill_seconds:
                return
            del self._buckets[key]


def retry_after_seconds(wait: float) -> int:
    """A Retry-After header value (whole seconds, at least 1) for a wait from :meth:`RateLimiter.take`."""
    return max(1, math.ceil(wait))


@dataclass(frozen=True)
class RateLimits:
    """The web chat's limits; a limiter of None means that endpoint is not limited."""

    messages: Optional[RateLimiter]
    sessions: Optional[RateLimiter]
    trusted_proxies: Tuple[IPNetwork, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str], clock: Callable[[], float] = time.monotonic) -> RateLimits:
        """The limits from the environment (see :data:`ENV_DEFAULTS`); ValueError for a bad value."""
        messages = _limiter(env, "WEBCHAT_MESSAGES_PER_MINUTE", "WEBCHAT_MESSAGE_BURST", clock)
        sessions = _limiter(env, "WEBCHAT_SESSIONS_PER_MINUTE", "WEBCHAT_SESSION_BURST", clock)
        proxies = parse_trusted_proxies(env.get("WEBCHAT_TRUSTED_PROXIES", ""))
        return cls(messages, sessions, proxies)


# The environment settings and their defaults: generous for a person typing, tight for a script.
ENV_DEFAULTS = {
    "WEBCHAT_MESSAGES_PER_MINUTE": "60",  # per session; 0 turns the limit off
    "WEBCHAT_MESSAGE_BURST": "20",  # messages a session may send at once (fast button taps)
    "WEBCHAT_SESSIONS_PER_MINUTE": "10",  # new sessions per client address; 0 turns it off
    "WEBCHAT_SESSION_BURST": "10",
    "WEBCHAT_TRUSTED_PROXIES": "",  # proxies whose X-Forwarded-For is believed (IPs or CIDRs)
}


def _number(env: Mapping[str, str], name: str) -> float:
    text = (env.get(name, "") or "").strip() or ENV_DEFAULTS[name]
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be 0 or more, not {text!r}")
    return value


def _limiter(
    env: Mapping[str, str], rate_name: str, burst_name: str, clock: Callable[[], float]
) -> Optional[RateLimiter]:
    per_minute = _number(env, rate_name)
    burst = _number(env, burst_name)
    if per_minute == 0:
        return None
    if burst < 1 or burst != int(burst):
        raise ValueError(f"{burst_name} must be a whole number, at least 1")
    return RateLimiter(per_minute, int(burst), clock=clock)


# --- the client's address ---------------------------------------------------------------------


def parse_trusted_proxies(value: str) -> Tuple[IPNetwork, ...]:
    """The networks of WEBCHAT_TRUSTED_PROXIES ("127.0.0.1, 10.0.0.0/8, ::1"); ValueError if bad."""
    networks = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"WEBCHAT_TRUSTED_PROXIES: {item!r} is not an IP address or network like 10.0.0.0/8"
            ) from None
    return tuple(networks)


def parse_ip(text: str) -> Optional[IPAddress]:
    """An address as proxies write it ("203.0.113.7", "203.0.113.7:4711", "[2001:db8::1]:443"), or None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # IPv4 with a port
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Iterable[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_address(
    peer: str, forwarded_for: Iterable[str], proxies: Tuple[IPNetwork, ...]
) -> Optional[IPAddress]:
    """The client's address: the peer's, or, when the peer is a trusted proxy, from X-Forwarded-For.

    X-Forwarded-For is read right to left (each proxy appends the address it saw)
    and the first address that is not a trusted proxy is the client; what is left
    of it was written by the client and is ignored. Without trusted proxies the
    header is never read, so a client cannot pick its own address.
    """
    address = parse_ip(peer)
    if address is None or not proxies or not _trusted(address, proxies):
        return address
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        hop_address = parse_ip(hop)
        if hop_address is None:
            return address  # a trusted proxy would not write this: fall back to the nearest one
        address = hop_address
        if not _trusted(address, proxies):
            return address
    return address


def client_key(address: Optional[IPAddress], peer: str) -> str:
    """The rate-limit key of a client: its IPv4 address, or its IPv6 /64."""
    if address is None:
        return "peer:" + (peer or "unknown")
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False)
        return f"ip:{network}"
    return f"ip:{address}"
