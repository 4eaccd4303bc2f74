"""What personal data and secrets look like: the single source of truth.

Used by the public telemetry backend (reject a batch), the client-side uploader
(check before sending) and error storage (store messages sanitized).
Pure standard library so that any of those can import it. See docs/privacy.md.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# Kind labels. They appear in API error messages, so they are part of the interface.
EMAIL = "email address"
USER_PATH = "file path with username"
IP_ADDRESS = "IP address"
PAYMENT_CARD = "payment card number"
BEARER_TOKEN = "bearer token"
JWT = "JWT"
API_KEY = "API key"
PRIVATE_KEY = "private key"
URL_PASSWORD = "password in URL"
SSN = "social security number"
IBAN = "IBAN"
SENSITIVE_KEY = "sensitive field name"

SECRET_PLACEHOLDER = "[SECRET]"
REDACTED = "[REDACTED]"

# Label -> placeholder for every kind that can occur in a value; in order of precedence
# when two findings start at the same place.
PLACEHOLDERS: dict[str, str] = {
    PRIVATE_KEY: SECRET_PLACEHOLDER,
    URL_PASSWORD: SECRET_PLACEHOLDER,
    BEARER_TOKEN: SECRET_PLACEHOLDER,
    JWT: SECRET_PLACEHOLDER,
    API_KEY: SECRET_PLACEHOLDER,
    EMAIL: "[EMAIL]",
    USER_PATH: "[PATH]",
    IBAN: "[IBAN]",
    PAYMENT_CARD: "[CARD]",
    SSN: "[SSN]",
    IP_ADDRESS: "[IP]",
}

# Key-name terms, as lower-case parts (see is_sensitive_key).
SENSITIVE_KEY_TERMS: tuple[tuple[str, ...], ...] = tuple(
    tuple(term.split("_"))
    for term in (
        "password passwd pwd passphrase secret client_secret token access_token refresh_token "
        "auth_token id_token session_token bearer api_key apikey private_key secret_key "
        "access_key credential credentials authorization auth_header cookie set_cookie ssn "
        "social_security_number email e_mail email_address phone phone_number credit_card "
        "card_number iban"
    ).split()
)
SENSITIVE_KEY_QUALIFIERS = frozenset("value hash raw plain b64 base64 str string text".split())

# Nothing shorter can hold a finding (the shortest is "::1").
_MIN_LEN = 3

_Span = tuple[int, int]
_Check = Callable[[re.Match[str]], _Span | None]


@dataclass(frozen=True, slots=True)
class Finding:
    """One kind of personal data at one place; holds no part of the value itself."""

    kind: str  # a label above
    path: str  # e.g. "errors[0].contexts[2]", "feature_usage.<email address>", "$"

    def __str__(self) -> str:
        return f"{self.kind} at {self.path}"


# --- validators: each gets a candidate match and returns the span to replace, or None ---


def _whole(m: re.Match[str]) -> _Span | None:
    return m.span()


def _group1(m: re.Match[str]) -> _Span | None:
    return m.span(1)


_RETINA_SUFFIX = re.compile(r"\d+(?:\.\d+)?x\.[A-Za-z]+")


def _email(m: re.Match[str]) -> _Span | None:
    # "icon@2x.png" is a retina image name, not an address.
    return None if _RETINA_SUFFIX.fullmatch(m.group(1)) else m.span()


# Accounts that belong to no person (macOS, Windows, Homebrew on Linux).
_NOT_A_PERSON = frozenset(
    {"shared", "guest", "public", "default", "default user", "all users", "linuxbrew"}
)


def _user_path(m: re.Match[str]) -> _Span | None:
    start, end = m.span()
    user = m.group(1)
    if " " in user and not m.string.startswith(("\\", "/"), end):
        # A Windows user name may contain spaces only if a separator follows it;
        # otherwise the path ended at the first space ("C:\Users\bob is missing").
        user = user.split(" ", 1)[0]
        end = m.start(1) + len(user)
    if user.lower() in _NOT_A_PERSON or not any(c.isalnum() for c in user):
        return None
    return start, end


def _ipv4(m: re.Match[str]) -> _Span | None:
    return m.span() if all(int(octet) <= 255 for octet in m.group().split(".")) else None


def _ipv6(m: re.Match[str]) -> _Span | None:
    text = m.group()
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return None
    # C++ scopes such as "a::b" or "Add::Bed" are valid IPv6 syntax; real addresses
    # almost always have a digit or at least three groups.
    groups = [g for g in text.split(":") if g]
    if len(groups) < 3 and not any(c.isdigit() for c in text):
        return None
    return m.span()


_14_19 = (14, 15, 16, 17, 18, 19)
_16_19 = (16, 17, 18, 19)
# (lowest prefix, highest prefix, allowed lengths); epoch milliseconds and most
# numeric ids start with digits no issuer uses.
_CARD_ISSUERS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard 2-series
    ("34", "34", (15,)),  # American Express
    ("37", "37", (15,)),
    ("6011", "6011", _16_19),  # Discover
    ("644", "649", _16_19),
    ("65", "65", _16_19),
    ("3528", "3589", _16_19),  # JCB
    ("300", "305", _14_19),  # Diners Club
    ("36", "36", _14_19),
    ("38", "38", _14_19),
    ("62", "62", _16_19),  # UnionPay
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(m: re.Match[str]) -> _Span | None:
    digits = re.sub(r"[ -]", "", m.group())
    for low, high, lengths in _CARD_ISSUERS:
        if len(digits) in lengths and low <= digits[: len(low)] <= high:
            return m.span() if _luhn_ok(digits) else None
    return None


def _ssn(m: re.Match[str]) -> _Span | None:
    area, group, serial = m.group().split("-")
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return None
    return m.span()


_IBAN_LENGTHS: dict[str, int] = {
    entry[:2]: int(entry[2:])
    for entry in (
        "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 "
        "DE22 DJ27 DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 "
        "GT28 HN28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 "
        "LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 "
        "PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 "
        "SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30"
    ).split()
}


def _iban(m: re.Match[str]) -> _Span | None:
    text = m.group()
    length = _IBAN_LENGTHS.get(text[:2])
    if length is None:
        return None
    # The spaced form may have swallowed words after the IBAN: cut at the country's length.
    chars = [i for i, ch in enumerate(text) if ch != " "]
    if len(chars) < length:
        return None
    end = chars[length - 1] + 1
    if end < len(text) and text[end] != " ":  # the cut must fall between groups
        return None
    compact = text[:end].replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    if int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 != 1:
        return None
    return m.start(), m.start() + end


def _bearer(m: re.Match[str]) -> _Span | None:
    # "Bearer authentication failed" is prose; real tokens have digits or mixed case.
    token = m.group(1)
    if any(c.isdigit() for c in token) or (
        len(token) >= 16 and not token.islower() and not token.isupper()
    ):
        return m.span(1)
    return None


def _has_digit(m: re.Match[str]) -> _Span | None:
    # Generated keys contain digits; "sk-learn-compatibility-layer" does not.
    return m.span() if any(c.isdigit() for c in m.group()) else None


# Every pattern starts behind a look-behind so that it is only tried at token starts;
# this keeps the search linear on long strings.
_RULES: tuple[tuple[str, str, _Check], ...] = (
    (
        PRIVATE_KEY,
        # The body never holds "--", so a block without END stops at the next header
        # instead of every header scanning to the end of the text.
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:(?:[^-]|-(?!-))*-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)?",
        _whole,
    ),
    (URL_PASSWORD, r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://([^\s/@:]*:[^\s/@]+)@", _group1),
    (BEARER_TOKEN, r"(?<![A-Za-z0-9])(?i:bearer)\s+([A-Za-z0-9._~+/-]{8,}=*)", _bearer),
    (JWT, r"(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", _whole),
    (
        API_KEY,
        r"(?<![\w-])(?:"
        r"sk-(?:proj-|ant-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"
        r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"
        r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}"
        r"|(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"
        r"|xox[baprs]-[A-Za-z0-9-]{10,}"
        r"|AIza[A-Za-z0-9_-]{35}"
        r"|glpat-[A-Za-z0-9_-]{20,}"
        r"|hf_[A-Za-z0-9]{30,}"
        r"|npm_[A-Za-z0-9]{36,})",
        _has_digit,
    ),
    (
        EMAIL,
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@"
        r"([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?![A-Za-z0-9-])",
        _email,
    ),
    (USER_PATH, r"(?<![\w.~-])(?:/home|/Users|/mnt/[a-z]/Users)/([\w.$-]+)", _user_path),
    (
        USER_PATH,
        r"(?<![A-Za-z0-9])(?i:[a-z]:(?:\\{1,2}|/)users(?:\\{1,2}|/))"
        r"([\w.$-]+(?: [\w.$-]+)*)",
        _user_path,
    ),
    (USER_PATH, r"(?<![\w~])~([A-Za-z_][\w.-]+)(?=/)", _user_path),
    (
        IBAN,
        r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}"
        r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{1,4}){3,8})(?![A-Za-z0-9])",
        _iban,
    ),
    (
        PAYMENT_CARD,
        r"(?<![A-Za-z0-9.])(?:\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?"
        r"|\d{4}[ -]\d{6}[ -]\d{4,5}|\d{13,19})(?![A-Za-z0-9])",
        _card,
    ),
    (SSN, r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])", _ssn),
    (IP_ADDRESS, r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)", _ipv4),
    (
        IP_ADDRESS,
        r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}"
        r"(?![\w:]|\.\d)",
        _ipv6,
    ),
)

_COMPILED: tuple[tuple[str, re.Pattern[str], _Check], ...] = tuple(
    (kind, re.compile(pattern), check) for kind, pattern, check in _RULES
)
# First pass, run on every string: one search for a clue that some rule above could match.
# It starts with a character class so that the regex engine skips, in C, to the next
# character that can begin a clue, then dispatches on that character. Each branch is a
# necessary condition of a rule, so nothing is missed (the test corpus holds every kind).
# This is several times faster than searching the union of the rules, which cannot skip.
_CLUE = re.compile(
    r"""
    [-@~:/_.\dABb]
    (?:
        (?<=\d)(?:
            (?=\d{12}|\d{3}[\ -]\d{4}[\ -]\d|\d{3}[\ -]\d{6}[\ -]\d)   # card
          | (?<=[A-Z]{2}\d)(?=\d))                                     # IBAN
      | (?<=\.)(?:(?<=\d\.)(?=\d{1,3}\.\d{1,3}\.\d) | (?=eyJ))           # IPv4, JWT
      | (?<=-)(?:
            (?=----BEGIN\ ) | (?<=\d{3}-)(?=\d\d-\d{4})                   # private key, SSN
          | (?<=\bsk-) | (?<=\bglpat-) | (?<=\bxox[baprs]-))
      | (?<=_)(?:(?<=\b[sr]k_) | (?<=\bgh[pousr]_) | (?<=\bgithub_) | (?<=\bhf_) | (?<=\bnpm_))
      | (?<=:)(?:
            (?=:|(?:[0-9A-Fa-f]{0,4}:){5})                              # IPv6: "::" or 7 colons
          | (?<=[A-Za-z]:)(?=(?:\\{1,2}|/)(?i:users)))                   # C:\Users
      | (?<=/)(?=home/|Users/|mnt/)
      | (?<=[^\s/@]@)                                                   # email, URL password
      | (?<=~)(?=[A-Za-z_])
      | (?<=A)(?=KIA|SIA|Iza)                                           # AWS, Google keys
      | (?<=[Bb])(?=(?i:earer)\s)
    )
    """,
    re.VERBOSE,
)
_PRECEDENCE = {kind: i for i, kind in enumerate(PLACEHOLDERS)}


def _findings(text: str) -> list[tuple[int, int, str]]:
    """Validated, non-overlapping (start, end, kind) in text order."""
    if len(text) < _MIN_LEN or not _CLUE.search(text):
        return []
    found = []
    for kind, regex, check in _COMPILED:
        for m in regex.finditer(text):
            span = check(m)
            if span is not None:
                found.append((span[0], span[1], kind))
    # Overlaps (an address inside URL credentials, digits inside an IBAN): keep the
    # earliest, then the longest, then the most specific kind.
    found.sort(key=lambda f: (f[0], f[0] - f[1], _PRECEDENCE[f[2]]))
    kept: list[tuple[int, int, str]] = []
    for finding in found:
        if not kept or finding[0] >= kept[-1][1]:
            kept.append(finding)
    return kept


def detect(text: str) -> list[str]:
    """Labels of the kinds found in text, in order of first appearance, no duplicates."""
    found = _findings(text)
    return list(dict.fromkeys(kind for _, _, kind in found)) if found else []


def contains_personal_data(text: str) -> bool:
    return bool(_findings(text))


def sanitize(text: str) -> str:
    """text with each finding replaced by its placeholder."""
    parts = []
    pos = 0
    for start, end, kind in _findings(text):
        parts += (text[pos:start], PLACEHOLDERS[kind])
        pos = end
    return "".join(parts) + text[pos:] if parts else text


_KEY_PARTS = re.compile(r"[A-Z]+(?![a-z])\d*|[A-Z]?[a-z]+\d*|\d+")
_TERMS_BY_LAST: dict[str, list[tuple[str, ...]]] = {}
for _term in SENSITIVE_KEY_TERMS:
    _TERMS_BY_LAST.setdefault(_term[-1], []).append(_term)


def _ends_with_term(parts: list[str]) -> bool:
    return any(tuple(parts[-len(term) :]) == term for term in _TERMS_BY_LAST.get(parts[-1], ()))


def is_sensitive_key(name: str) -> bool:
    """True when the key NAME announces a secret or personal value (see docs/privacy.md)."""
    # Numbers do not change the meaning ("password2", "token_1"), except in "b64", "base64".
    parts = [p.lower() for p in _KEY_PARTS.findall(name)]
    parts = [p if p in SENSITIVE_KEY_QUALIFIERS else p.rstrip("0123456789") for p in parts]
    parts = [p for p in parts if p]
    if not parts:
        return False
    if _ends_with_term(parts):
        return True
    return len(parts) > 1 and parts[-1] in SENSITIVE_KEY_QUALIFIERS and _ends_with_term(parts[:-1])


def _scalar_text(value: object) -> str | None:
    """The text to inspect for a leaf value; None for values that cannot carry data."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | float):
        return None
    return str(value)  # int (a card number sent as a number) or an unexpected type


_CONTAINERS = (dict, list, tuple)  # a tuple: faster in isinstance than dict | list | tuple


def _leaf_kinds(value: object) -> list[str]:
    text = _scalar_text(value)
    return detect(text) if text is not None else []


# The same few key names recur in every batch: remember the verdict for names that hold
# no personal data (and only those, so no personal data is kept in memory).
_CLEAN_KEYS: dict[str, bool] = {}
_CLEAN_KEYS_MAX = 4096


def _judge_key(key: object) -> tuple[list[str], bool]:
    """(kinds of personal data in the key, whether it is a sensitive field name)."""
    if isinstance(key, str) and key in _CLEAN_KEYS:
        return [], _CLEAN_KEYS[key]
    kinds = _leaf_kinds(key)
    if kinds or not isinstance(key, str):
        return kinds, False
    if len(_CLEAN_KEYS) >= _CLEAN_KEYS_MAX:
        _CLEAN_KEYS.clear()
    sensitive = _CLEAN_KEYS[key] = is_sensitive_key(key)
    return [], sensitive


def scan(payload: object, path: str = "") -> Iterator[Finding]:
    """Every finding in payload (keys and values, any depth), in document order."""
    # An explicit stack rather than recursion, so deeply nested input cannot exhaust the
    # call stack. Leaves are checked as soon as their container is reached; only
    # containers go back on the stack, behind the findings that precede them.
    stack: list[Finding | tuple[object, str]] = [(payload, path)]
    while stack:
        item = stack.pop()
        if isinstance(item, Finding):
            yield item
            continue
        value, where = item
        pending: list[Finding | tuple[object, str]] = []
        if isinstance(value, dict):
            for key, child in value.items():
                kinds, sensitive = _judge_key(key)
                nested = isinstance(child, _CONTAINERS)
                child_kinds = [] if nested else _leaf_kinds(child)
                if not (kinds or sensitive or nested or child_kinds):
                    continue  # the common case: build no path
                name = f"<{kinds[0]}>" if kinds else str(key)
                child_path = f"{where}.{name}" if where else name
                pending.extend(Finding(kind, child_path) for kind in kinds)
                if sensitive:
                    pending.append(Finding(SENSITIVE_KEY, child_path))
                if nested:
                    pending.append((child, child_path))
                pending.extend(Finding(kind, child_path) for kind in child_kinds)
        elif isinstance(value, list | tuple):
            for i, child in enumerate(value):
                if isinstance(child, _CONTAINERS):
                    pending.append((child, f"{where}[{i}]"))
                else:
                    pending.extend(Finding(kind, f"{where}[{i}]") for kind in _leaf_kinds(child))
        else:
            pending.extend(Finding(kind, where or "$") for kind in _leaf_kinds(value))
        stack.extend(reversed(pending))


def first_finding(payload: object) -> Finding | None:
    return next(scan(payload), None)


def _sanitize_leaf(value: object) -> object:
    text = _scalar_text(value)
    if text is None:
        return value
    clean = sanitize(text)
    if clean != text:
        return clean
    return value if isinstance(value, str | int) else copy.deepcopy(value)


def sanitize_payload(payload: object) -> object:
    """Deep copy of payload with personal data replaced; the input is not modified.

    Values under sensitive keys become "[REDACTED]"; keys carrying personal data are
    replaced by their placeholder (if two keys collapse into one, the later one wins).
    """
    if isinstance(payload, dict):
        clean = {}
        for key, child in payload.items():
            kinds, sensitive = _judge_key(key)
            new_key = sanitize(key) if kinds and isinstance(key, str) else _sanitize_leaf(key)
            clean[new_key] = REDACTED if sensitive else sanitize_payload(child)
        return clean
    if isinstance(payload, list | tuple):
        items = [sanitize_payload(child) for child in payload]
        return items if isinstance(payload, list) else tuple(items)
    return _sanitize_leaf(payload)
