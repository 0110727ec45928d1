"""Whether a message really comes from the address in its From header.

A message is proven when a DKIM signature or an SPF pass vouches for a domain aligned with
the From domain (the same organizational domain, as DMARC's relaxed alignment has it).
Behind a mail server that checks mail itself (Postfix with a DKIM/DMARC milter), its
Authentication-Results header is trusted instead, when it names MAIL_TRUSTED_AUTHSERV_ID;
Authentication-Results headers from anywhere else are never believed, and are removed from
the copy that is kept.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

import authres
import dkim
import dns.resolver
import spf
from django.conf import settings
from publicsuffixlist import PublicSuffixList

log = logging.getLogger(__name__)

_DKIM_TIMEOUT = 5
_SPF_SECONDS = 10  # all lookups of one SPF check together
_HEADER_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:")


@dataclass(frozen=True)
class Connection:
    """What the SMTP session knows of the server that handed us the message."""

    ip: str
    helo: str
    mail_from: str


@dataclass(frozen=True)
class Proof:
    """The verdict on one message: `verified` when an aligned DKIM or SPF pass vouches for
    the From domain; `results` are what each check found, for the kept copy's header."""

    verified: bool
    why: str
    results: tuple[authres.AuthenticationResult, ...] = ()


@functools.cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()


def _organization(domain: str) -> str:
    domain = domain.strip(".").lower()
    return _suffixes().privatesuffix(domain) or domain


def aligned(domain: str, from_domain: str) -> bool:
    """DMARC's relaxed alignment: both names under the same registered domain."""
    return bool(domain and from_domain) and _organization(domain) == _organization(from_domain)


# --- DNS: the system's resolver, or the one named by MAIL_DNS_RESOLVER.

_configured_for: str | None = None


def _use_configured_resolver() -> None:
    """dkimpy and pyspf both ask dnspython's default resolver; point it at the configured
    one (host or host:port), or back at the system's when the setting is cleared."""
    global _configured_for
    wanted = settings.MAIL_DNS_RESOLVER
    if wanted == _configured_for:
        return
    if wanted:
        host, _, port = wanted.rpartition(":") if wanted.count(":") == 1 else (wanted, "", "")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host or wanted]
        resolver.port = int(port or 53)
        dns.resolver.default_resolver = resolver
    else:
        dns.resolver.reset_default_resolver()
    _configured_for = wanted


# --- Checking.


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def _dkim_passes(raw: bytes) -> tuple[list[str], list[str]]:
    """(domains whose signature verified, domains whose signature failed)."""
    passed: list[str] = []
    failed: list[str] = []
    try:
        checker = dkim.DKIM(raw, timeout=_DKIM_TIMEOUT)
        count = sum(1 for name, _ in checker.headers if name.lower() == b"dkim-signature")
    except Exception:  # noqa: BLE001 - a message dkimpy cannot read has no valid signature
        return passed, failed
    for index in range(count):
        try:
            ok = checker.verify(idx=index)
        except Exception:  # noqa: BLE001 - a damaged signature or a DNS failure proves nothing
            ok = False
        domain = (checker.domain or b"").decode("ascii", "replace").lower()
        (passed if ok else failed).append(domain)
    return passed, failed


def _spf(connection: Connection) -> tuple[str, str]:
    """(SPF result, the domain it is about): MAIL FROM's domain, or HELO's for bounces."""
    domain = _domain_of(connection.mail_from) or connection.helo.lower()
    sender = connection.mail_from or f"postmaster@{connection.helo}"
    try:
        result, _ = spf.check2(i=connection.ip, s=sender, h=connection.helo, querytime=_SPF_SECONDS)
    except Exception:  # noqa: BLE001 - an address pyspf cannot read gives no pass
        result = "permerror"
    return result, domain


def _trusted_header(raw: bytes) -> authres.AuthenticationResultsHeader | None:
    """The topmost Authentication-Results header, when our own mail server added it: that
    server puts its header above anything the sender wrote."""
    value = next(_header_values(raw, b"authentication-results"), None)
    if value is None:
        return None
    try:
        parsed = authres.AuthenticationResultsHeader.parse_value(value)
    except Exception:  # noqa: BLE001 - unreadable: not a verdict we can use
        return None
    return parsed if parsed.authserv_id.lower() == settings.MAIL_TRUSTED_AUTHSERV_ID else None


def _by_trusted_server(found: authres.AuthenticationResultsHeader, from_domain: str) -> Proof:
    passes = []
    for result in found.results:
        if result.result.lower() != "pass":
            continue
        method = result.method.lower()
        if method == "dmarc":
            domain = getattr(result, "header_from", "") or from_domain
        elif method == "dkim":
            domain = getattr(result, "header_d", "") or ""
        elif method == "spf":
            domain = _domain_of(getattr(result, "smtp_mailfrom", "") or "")
            domain = domain or (getattr(result, "smtp_helo", "") or "")
        else:
            continue
        if aligned(domain, from_domain):
            passes.append(f"{method} for {domain}")
    if passes:
        return Proof(True, f"{found.authserv_id} found a {passes[0]}.")
    return Proof(
        False,
        f"{found.authserv_id} found no DKIM, SPF or DMARC pass for {from_domain}.",
    )


def check(raw: bytes, from_address: str, connection: Connection | None) -> Proof:
    """Whether the message proves its From address. `connection` is the SMTP session's (for
    SPF), or None when the message came through another server (LMTP, IMAP)."""
    from_domain = _domain_of(from_address)
    if not from_domain:
        return Proof(False, "The message has no sender address.")
    if settings.MAIL_TRUSTED_AUTHSERV_ID and (found := _trusted_header(raw)):
        return _by_trusted_server(found, from_domain)
    _use_configured_resolver()
    passed, failed = _dkim_passes(raw)
    results: list[authres.AuthenticationResult] = [
        authres.DKIMAuthenticationResult(result="pass", header_d=d) for d in passed
    ] + [authres.DKIMAuthenticationResult(result="fail", header_d=d) for d in failed]
    if signer := next((d for d in passed if aligned(d, from_domain)), None):
        return Proof(True, f"DKIM signature of {signer}.", tuple(results))
    spf_result, spf_domain = "", ""
    if connection is not None and connection.ip:
        spf_result, spf_domain = _spf(connection)
        results.append(
            authres.SPFAuthenticationResult(
                result=spf_result, smtp_mailfrom=connection.mail_from or None
            )
        )
        if spf_result == "pass" and aligned(spf_domain, from_domain):
            return Proof(True, f"SPF pass for {spf_domain}.", tuple(results))
    return Proof(
        False, _why_unproven(from_domain, passed, failed, spf_result, spf_domain), tuple(results)
    )


def _why_unproven(
    from_domain: str, passed: list[str], failed: list[str], spf_result: str, spf_domain: str
) -> str:
    if passed:
        dkim_said = f"it is signed by {', '.join(passed)}, not by {from_domain}"
    elif failed:
        dkim_said = f"its DKIM signature of {failed[0]} does not verify"
    else:
        dkim_said = f"it has no DKIM signature of {from_domain}"
    if not spf_result:
        spf_said = "SPF could not be checked"
    elif spf_result == "pass":
        spf_said = f"SPF passes only for {spf_domain}"
    else:
        spf_said = f"SPF for {spf_domain or 'the sending server'} gave {spf_result}"
    return f"Could not verify that {from_domain} sent it: {dkim_said}, and {spf_said}."


# --- The copy that is kept: no foreign verdicts, and ours on top.


def _header_lines(raw: bytes) -> tuple[list[bytes], bytes]:
    """(header lines with their line ends, everything after the header block)."""
    end = len(raw)
    for separator in (b"\r\n\r\n", b"\n\n"):
        found = raw.find(separator)
        if found != -1 and found < end:
            end = found + len(separator) // 2
    return raw[:end].splitlines(keepends=True), raw[end:]


def _header_values(raw: bytes, wanted: bytes):
    """Each (unfolded) value of the header named `wanted`, from the top."""
    lines, _ = _header_lines(raw)
    current: list[bytes] | None = None
    for line in [*lines, b"End: of headers\n"]:
        if line[:1] in (b" ", b"\t") and current is not None:
            current.append(line.strip())
            continue
        if current is not None:
            yield b" ".join(current).decode("utf-8", "replace")
            current = None
        name = _HEADER_NAME.match(line)
        if name and name[1].lower() == wanted:
            current = [line[name.end() :].strip()]


def kept_copy(raw: bytes, proof: Proof) -> bytes:
    """The message as it is stored: Authentication-Results headers it came with are removed
    unless our trusted mail server wrote them, and our own verdict is put on top."""
    lines, rest = _header_lines(raw)
    kept: list[bytes] = []
    dropping = False
    trusted_left = bool(settings.MAIL_TRUSTED_AUTHSERV_ID and _trusted_header(raw))
    for line in lines:
        if line[:1] in (b" ", b"\t") and kept:
            if not dropping:
                kept.append(line)
            continue
        name = _HEADER_NAME.match(line)
        dropping = bool(name and name[1].lower() == b"authentication-results")
        if dropping and trusted_left:
            # The first one is our mail server's: keep it as it came.
            trusted_left = dropping = False
        if not dropping:
            kept.append(line)
    ending = b"\r\n" if raw.find(b"\r\n") != -1 else b"\n"
    ours = b""
    if proof.results:
        header = authres.AuthenticationResultsHeader(
            authserv_id=settings.MAIL_DOMAIN, results=list(proof.results)
        )
        ours = str(header).encode("utf-8", "replace") + ending
    return ours + b"".join(kept) + rest
