"""Answer an HTTP server's authentication challenge with Basic or Digest credentials.

Nothing is sent before the server asks: the first request goes without credentials, and
the ``401`` answer's ``WWW-Authenticate`` challenges (RFC 9110) say which scheme to use.
Digest (RFC 7616: MD5, SHA-256 and their ``-sess`` forms, ``qop=auth`` or none) is
preferred to Basic (RFC 7617).  After one challenge, later requests to the same server
carry credentials at once (Digest with the next nonce count), so a push of thousands of
graphs takes one extra round trip, not one per graph; a ``stale=true`` challenge is
answered again, a refusal of credentials sent is final.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SCHEME = re.compile(rf"[\s,]*({_TOKEN})")
_PARAM = re.compile(rf"\s*({_TOKEN})\s*=\s*(?:\"((?:[^\"\\]|\\.)*)\"|({_TOKEN}))\s*(?:,|$)")
_TOKEN68 = re.compile(r"\s*[A-Za-z0-9._~+/-]+=*\s*(?:,|$)")
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header: a scheme (lower case) and its
    parameters (names in lower case)."""

    scheme: str
    params: tuple[tuple[str, str], ...] = ()

    def get(self, name: str, default: str = "") -> str:
        """Return a parameter's value."""
        return next((v for k, v in self.params if k == name), default)


def parse_challenges(headers: Iterable[str]) -> tuple[Challenge, ...]:
    """Return the challenges of ``WWW-Authenticate`` header values, in order.

    A header may hold several (``Digest realm="a", nonce="b", Basic realm="a"``)."""
    found: list[Challenge] = []
    for header in headers:
        position = 0
        while True:
            scheme = _SCHEME.match(header, position)
            if scheme is None:
                break
            position = scheme.end()
            params: list[tuple[str, str]] = []
            while (param := _PARAM.match(header, position)) is not None:
                value = param[2] if param[2] is not None else param[3]
                params.append((param[1].lower(), re.sub(r"\\(.)", r"\1", value)))
                position = param.end()
            if not params and (token68 := _TOKEN68.match(header, position)):
                position = token68.end()  # e.g. Negotiate abc==: not a scheme we answer
            found.append(Challenge(scheme[1].lower(), tuple(params)))
    return tuple(found)


class Credentials:
    """A user name and password that answer Basic and Digest challenges."""

    def __init__(self, user: str, password: str | None) -> None:
        self.user = user
        self.password = password or ""
        self._challenge: Challenge | None = None
        self._count = 0

    @property
    def basic(self) -> str:
        """The Basic Authorization value (a secret: it encodes the password)."""
        return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()

    def answer(self, challenges: Iterable[Challenge], refused: bool = False) -> bool:
        """Take the best challenge this can answer; False when there is none, or when
        ``refused`` (the request carried these credentials) and the challenge does not say
        the nonce was merely stale: wrong credentials are not sent again."""
        usable = [c for c in challenges if c.scheme == "basic" or (
            c.scheme == "digest" and c.get("nonce") and _algorithm(c) in _HASHES
            and (not c.get("qop") or "auth" in _qops(c)))]
        if not usable:
            return False
        best = min(usable, key=lambda c: c.scheme != "digest")  # Digest first
        if refused and not (best.scheme == "digest" and best.get("stale").lower() == "true"):
            return False
        self._challenge, self._count = best, 0
        return True

    def header(self, method: str, target: str) -> str | None:
        """Return the Authorization value for a request (``target``: its path and query),
        or None before any challenge."""
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return self.basic
        self._count += 1
        return digest_header(challenge, self.user, self.password, method, target, self._count,
                             os.urandom(8).hex())


def _algorithm(challenge: Challenge) -> str:
    return challenge.get("algorithm", "MD5").upper().removesuffix("-SESS")


def _qops(challenge: Challenge) -> list[str]:
    return [q.strip().lower() for q in challenge.get("qop").split(",")]


def digest_header(challenge: Challenge, user: str, password: str, method: str, target: str,
                  count: int, cnonce: str) -> str:
    """Return the Authorization value answering a Digest challenge (RFC 7616)."""
    algorithm = challenge.get("algorithm", "MD5")
    hash_ = _HASHES[_algorithm(challenge)]

    def h(text: str) -> str:
        return hash_(text.encode()).hexdigest()

    realm, nonce = challenge.get("realm"), challenge.get("nonce")
    ha1 = h(f"{user}:{realm}:{password}")
    if algorithm.upper().endswith("-SESS"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{target}")
    fields = [("username", _quoted(user)), ("realm", _quoted(realm)),
              ("nonce", _quoted(nonce)), ("uri", _quoted(target))]
    if challenge.get("qop"):
        nc = f"{count:08x}"
        response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += [("qop", "auth"), ("nc", nc), ("cnonce", _quoted(cnonce))]
    else:
        response = h(f"{ha1}:{nonce}:{ha2}")
    fields += [("response", _quoted(response)), ("algorithm", algorithm)]
    if challenge.get("opaque"):
        fields.append(("opaque", _quoted(challenge.get("opaque"))))
    return "Digest " + ", ".join(f"{k}={v}" for k, v in fields)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
