"""Tests for telemetry.privacy (plain pytest, no Django).

The module-level corpora are also the source of the figures in docs/privacy.md:
    .venv/bin/python -c "from tests.telemetry.test_privacy import corpus_figures as f; print(f())"
"""

from __future__ import annotations

import copy

import pytest

from telemetry.privacy import (
    API_KEY,
    BEARER_TOKEN,
    EMAIL,
    IBAN,
    IP_ADDRESS,
    JWT,
    PAYMENT_CARD,
    PLACEHOLDERS,
    PRIVATE_KEY,
    REDACTED,
    SENSITIVE_KEY,
    SSN,
    URL_PASSWORD,
    USER_PATH,
    Finding,
    contains_personal_data,
    detect,
    first_finding,
    is_sensitive_key,
    sanitize,
    sanitize_payload,
    scan,
)

# Fake secrets are assembled from pieces so that secret scanners do not flag this file.
PEM_BEGIN = "-----BEGIN " + "{}PRIVATE KEY-----"
PEM_END = "-----END " + "{}PRIVATE KEY-----"
RSA_BLOCK = PEM_BEGIN.format("RSA ") + "\nMIIEowIBAAKCAQEA7x\n" + PEM_END.format("RSA ")
JWT_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
OPENAI_KEY = "sk-" + "proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"
GITHUB_TOKEN = "ghp_" + "a1B2" * 9
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"

# (text, label that detect() must report)
PERSONAL_DATA: list[tuple[str, str]] = [
    ("alice@example.com", EMAIL),
    ("Contact bob.smith+tag@mail.example.co.uk for access", EMAIL),
    ('{"user": "carol_99@example.org"}', EMAIL),
    ("report sent to dave@example.io.", EMAIL),
    ("login failed for EVE@EXAMPLE.COM", EMAIL),
    ("/home/alice/project/main.py", USER_PATH),
    ('File "/home/bob/.venv/lib/python3.11/site-packages/x.py", line 3', USER_PATH),
    ("/Users/carol/Library/Logs/marcus.log", USER_PATH),
    (r"C:\Users\dave\AppData\Local\Marcus\log.txt", USER_PATH),
    ('{"cwd": "C:\\\\Users\\\\erin\\\\Documents\\\\x.md"}', USER_PATH),
    ("d:/users/frank/projects", USER_PATH),
    ("opened ~grace/notes.md", USER_PATH),
    (r"C:\Users\John Smith\Desktop\notes.txt", USER_PATH),
    ("cd /mnt/c/Users/heidi/code", USER_PATH),
    ("connect to 192.168.1.20 failed", IP_ADDRESS),
    ("client 8.8.8.8:443 closed", IP_ADDRESS),
    ("1.2.3.4", IP_ADDRESS),
    ("2001:db8::8a2e:370:7334", IP_ADDRESS),
    ("peer [fe80::1ff:fe23:4567:890a]:8080", IP_ADDRESS),
    ("::ffff:10.0.0.1", IP_ADDRESS),
    ("::1", IP_ADDRESS),
    ("request from 10.0.0.255.", IP_ADDRESS),
    ("4111111111111111", PAYMENT_CARD),
    ("card 4111 1111 1111 1111 declined", PAYMENT_CARD),
    ("5555-5555-5555-4444", PAYMENT_CARD),
    ("378282246310005", PAYMENT_CARD),
    ("Amex 3782 822463 10005 expired", PAYMENT_CARD),
    ('{"n": 6011111111111117}', PAYMENT_CARD),
    ("2223003122003222", PAYMENT_CARD),
    ("3530111333300000", PAYMENT_CARD),
    ("diners 30569309025904", PAYMENT_CARD),
    ("Authorization: Bearer abc123def456ghi789", BEARER_TOKEN),
    ("header bearer Zm9vYmFyYmF6cXV4MTIz", BEARER_TOKEN),
    (JWT_TOKEN, JWT),
    (f'{{"session": "{JWT_TOKEN}"}}', JWT),
    (OPENAI_KEY, API_KEY),
    ("key=" + "sk-ant-api03-" + "Xy9Zw8Vu7Ts6Rq5Po4Nm3Lk2", API_KEY),
    ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", API_KEY),
    (GITHUB_TOKEN, API_KEY),
    ("github_pat_" + "11ABCDEFG0" + "a1b2c3d4e5f6g7", API_KEY),
    (f"aws {AWS_KEY} used", API_KEY),
    ("xoxb-" + "123456789012-abcdefABCDEF", API_KEY),
    ("AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", API_KEY),
    ("glpat-" + "A1b2C3d4E5f6G7h8I9j0", API_KEY),
    ("hf_" + "a1B2c3D4" * 4 + "e5", API_KEY),
    ("npm_" + "a1B2c3D4e5" * 3 + "F6g7H8", API_KEY),
    (RSA_BLOCK, PRIVATE_KEY),
    (PEM_BEGIN.format(""), PRIVATE_KEY),
    ("key: " + PEM_BEGIN.format("OPENSSH ") + "\\nb3BlbnNzaC1rZXk=\\n", PRIVATE_KEY),
    (PEM_BEGIN.format("ENCRYPTED "), PRIVATE_KEY),
    (PEM_BEGIN.format("PGP ").replace("KEY-", "KEY BLOCK-"), PRIVATE_KEY),
    ("postgres://admin:hunter2@db.internal:5432/app", URL_PASSWORD),
    ("could not connect to redis://:s3cret@cache:6379/0", URL_PASSWORD),
    ("https://user:p%40ss@example.com/path", URL_PASSWORD),
    ("123-45-6789", SSN),
    ("SSN 078-05-1120 on file", SSN),
    ('{"id":"219-09-9999"}', SSN),
    ("DE89370400440532013000", IBAN),
    ("GB82 WEST 1234 5698 7654 32", IBAN),
    ("pay to FR1420041010050500013M02606 today", IBAN),
    ("NL91 ABNA 0417 1643 00 (savings)", IBAN),
]

# Strings that look a little like personal data but are not; none may be flagged.
LOOKALIKES: list[str] = [
    "3.11.7",
    "marcus 1.4.2-beta.3",
    "1.2.3.4.5",
    "550e8400-e29b-41d4-a716-446655440000",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "2024-05-17T09:31:22.512Z",
    "2024-01-15",
    "sync completed at 12:30:45",
    "10:30:45.123",
    "took 1532 ms",
    "batch 1700000000000",
    "epoch 1716000000",
    "/usr/lib/python3.11/json/decoder.py",
    "/tmp/marcus-cache/x",
    "src/marcus/main.py",
    r"C:\Program Files\Marcus\marcus.exe",
    "/home/",
    "/Users/Shared/Marcus/config.json",
    r"C:\Users\Public\Documents\x.txt",
    r"C:\Users\Default User\NTUSER.DAT",
    "/Users/Guest/Desktop",
    "/home/linuxbrew/.linuxbrew/bin/brew",
    "-----BEGIN PUBLIC KEY-----",
    "~/projects/marcus",
    "https://example.com/home/index.html",
    "task-runner finished",
    "disk-usage 73%",
    "sk-1",
    "ghp",
    "@decorator",
    "user@",
    "ssh user@host",
    "react@18.2.0",
    "icon@2x.png",
    "https://example.com:8443/path?q=1",
    "order ORD-2024-000123",
    "4111111111111112",
    "4242424242424241",
    "1234567812345678",
    "ABCDEFGHIJKLMNOP",
    "XK99 ABCD EFGH IJKL",
    "DE89370400440532013001",
    "std::vector<int>::size()",
    "a::b",
    "999.1.1.1",
    "000-12-3456",
    "666-12-3456",
    "123-00-4567",
    "123-45-0000",
    "Bearer authentication failed",
    "the bearer of bad news",
    "User authenticated",
    "token limit reached",
    "password reset flow completed",
    "max_tokens=4096",
    "HTTP 503 Service Unavailable",
]

# A typical clean 50-string batch (the speed figure in docs/privacy.md scans this).
TYPICAL_BATCH: list[str] = [
    "app_started", "session_resumed", "feature_used", "export_csv", "import_markdown",
    "settings_opened", "theme_changed", "dark", "en-US", "Europe/Berlin",
    "marcus 1.4.2", "3.11.7", "linux-x86_64", "darwin-arm64", "win32",
    "duration_ms=1532", "2024-05-17T09:31:22.512Z", "took 0.53 s", "retry 3/5",
    "cache hit ratio 0.87", "550e8400-e29b-41d4-a716-446655440000",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "order ORD-2024-000123", "batch 1700000000000", "queue depth 42",
    "ValueError: invalid literal for int() with base 10: 'abc'",
    "KeyError: 'project_id'",
    "TimeoutError: request to telemetry endpoint timed out after 30s",
    'File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode',
    'File "src/marcus/exporters/csv.py", line 88, in write_rows',
    "ConnectionResetError: [Errno 104] Connection reset by peer",
    "PermissionError: [Errno 13] Permission denied: 'output/report.pdf'",
    "std::vector<int>::size() returned 0", "HTTP 503 Service Unavailable",
    "GET /api/v1/events 200", "User authenticated", "token limit reached",
    "password reset flow completed", "clicked toolbar button 'Save As'",
    "keyboard shortcut Ctrl+Shift+P", "plugin markdown-preview 2.0.1 loaded", "gpu: none",
    "memory 512 MiB", "cpu count 8", "locale de_DE.UTF-8", "@decorator",
    "task-runner finished", "disk-usage 73%", "sync completed at 12:30:45",
    "AssertionError: expected 3 items, got 2",
]  # fmt: skip


def corpus_figures() -> dict[str, int]:
    """The counts quoted in docs/privacy.md."""
    return {
        "personal_data_cases": len(PERSONAL_DATA),
        "detected_with_right_label": sum(label in detect(t) for t, label in PERSONAL_DATA),
        "lookalikes": len(LOOKALIKES),
        "lookalikes_flagged": sum(contains_personal_data(t) for t in LOOKALIKES),
    }


def test_corpus_sizes() -> None:
    assert len(PERSONAL_DATA) >= 40
    assert len(LOOKALIKES) >= 20
    assert len(TYPICAL_BATCH) == 50
    kinds = {label for _, label in PERSONAL_DATA}
    assert kinds == set(PLACEHOLDERS)
    assert all(sum(label == k for _, label in PERSONAL_DATA) >= 2 for k in kinds)


@pytest.mark.parametrize(("text", "label"), PERSONAL_DATA)
def test_personal_data_is_detected(text: str, label: str) -> None:
    assert label in detect(text)
    assert contains_personal_data(text)


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalike_passes(text: str) -> None:
    assert detect(text) == []
    assert not contains_personal_data(text)
    assert sanitize(text) == text


def test_typical_batch_is_clean() -> None:
    assert first_finding(TYPICAL_BATCH) is None


def test_detect_order_and_no_duplicates() -> None:
    text = "a@example.com from 10.0.0.1 then b@example.com"
    assert detect(text) == [EMAIL, IP_ADDRESS]
    assert detect("") == []


@pytest.mark.parametrize(("text", "label"), PERSONAL_DATA)
def test_sanitize_removes_each_case(text: str, label: str) -> None:
    clean = sanitize(text)
    assert PLACEHOLDERS[label] in clean
    assert not contains_personal_data(clean)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail alice@example.com now", "mail [EMAIL] now"),
        ("/home/alice/project/x.py", "[PATH]/project/x.py"),
        (r"C:\Users\bob\x.txt", r"[PATH]\x.txt"),
        ("C:\\\\Users\\\\bob\\\\x.txt", "[PATH]\\\\x.txt"),
        ("~carol/src/a.py", "[PATH]/src/a.py"),
        ("from 192.168.1.20:8080", "from [IP]:8080"),
        ("ip fe80::1 up", "ip [IP] up"),
        ("card 4111-1111-1111-1111.", "card [CARD]."),
        ("Authorization: Bearer abc123def456ghi789", "Authorization: Bearer [SECRET]"),
        (f"token {JWT_TOKEN} expired", "token [SECRET] expired"),
        (f"using {OPENAI_KEY}", "using [SECRET]"),
        (f"{AWS_KEY}", "[SECRET]"),
        (f"before {RSA_BLOCK} after", "before [SECRET] after"),
        ("postgres://admin:hunter2@db:5432/x", "postgres://[SECRET]@db:5432/x"),
        ("ssn 123-45-6789.", "ssn [SSN]."),
        ("iban GB82 WEST 1234 5698 7654 32 sent", "iban [IBAN] sent"),
        ("nothing here", "nothing here"),
    ],
)
def test_sanitize_output(text: str, expected: str) -> None:
    assert sanitize(text) == expected


SENSITIVE_KEYS = [
    "password", "passwd", "pwd", "passphrase", "secret", "client_secret", "clientSecret",
    "token", "accessToken", "refresh_token", "id_token", "sessionToken", "bearer", "api_key",
    "apiKey", "APIKey", "api-key", "X-Api-Key", "apikey", "API_KEY", "private_key",
    "secretKey", "aws_access_key", "credential", "credentials", "Authorization",
    "auth_header", "cookie", "Set-Cookie", "ssn", "social_security_number", "email",
    "user_email", "emailAddress", "e-mail", "phone", "phoneNumber", "credit_card",
    "card_number", "iban", "password_hash", "passwordHash", "token_value", "api_key_b64",
    "db.password", "smtp password", "password2",
]  # fmt: skip
SAFE_KEYS = [
    "token_counting", "token_count", "max_tokens", "tokens_used", "authentication_flow",
    "authenticated", "email_verification", "email_sent_count", "password_reset_flow",
    "secret_santa_feature", "keyboard_shortcuts", "monkey", "api_key_rotation", "author",
    "cookie_banner_shown", "key", "name", "duration_ms", "tokenizer", "phone_model", "",
]  # fmt: skip


@pytest.mark.parametrize("name", SENSITIVE_KEYS)
def test_sensitive_key_names(name: str) -> None:
    assert is_sensitive_key(name)


@pytest.mark.parametrize("name", SAFE_KEYS)
def test_safe_key_names(name: str) -> None:
    assert not is_sensitive_key(name)


def test_scan_paths() -> None:
    payload = {
        "errors": [{"contexts": ["ok", "fine", "mail alice@example.com"]}],
        "feature_usage": {"bob@example.com": {"card": 4111111111111111}},
        "metadata": {"password": "x", "user": "/home/carol/x", "flag": True, "n": 3},
        "matrix": [[1, 2], [3, "10.0.0.1"]],
    }
    assert [str(f) for f in scan(payload)] == [
        "email address at errors[0].contexts[2]",
        "email address at feature_usage.<email address>",
        "payment card number at feature_usage.<email address>.card",
        "sensitive field name at metadata.password",
        "file path with username at metadata.user",
        "IP address at matrix[1][1]",
    ]
    assert "bob@example.com" not in " ".join(map(str, scan(payload)))


def test_scan_root_and_prefix() -> None:
    assert list(scan("alice@example.com")) == [Finding(EMAIL, "$")]
    assert list(scan(4111111111111111)) == [Finding(PAYMENT_CARD, "$")]
    assert list(scan(["ok", ("x", "10.0.0.1")])) == [Finding(IP_ADDRESS, "[1][1]")]
    assert list(scan({"a": "10.0.0.1"}, path="batch")) == [Finding(IP_ADDRESS, "batch.a")]
    assert list(scan([True, False, None, 1.5, 42, "", {}])) == []


def test_scan_sensitive_key_and_its_value() -> None:
    findings = list(scan({"metadata": {"email": "alice@example.com"}}))
    assert findings == [
        Finding(SENSITIVE_KEY, "metadata.email"),
        Finding(EMAIL, "metadata.email"),
    ]


def test_first_finding_and_backend_message() -> None:
    payload = {"events": [{"name": "ok"}], "feature_usage": {"alice@example.com": 3}}
    finding = first_finding(payload)
    assert finding is not None
    message = f"Telemetry validation failed: {finding}"
    assert message == "Telemetry validation failed: email address at feature_usage.<email address>"
    assert first_finding({"events": [{"name": "export_csv", "ms": 12}]}) is None


def test_scan_deep_nesting_does_not_recurse() -> None:
    payload: object = "10.0.0.1"
    for _ in range(5000):
        payload = [payload]
    finding = first_finding(payload)
    assert finding is not None
    assert finding.path == "[0]" * 5000


def test_finding_str_never_contains_value() -> None:
    secret = "alice@example.com"
    for finding in scan({secret: secret, "x": [secret]}):
        assert secret not in str(finding)
        assert str(finding) == f"{finding.kind} at {finding.path}"
    with pytest.raises(AttributeError):
        Finding(EMAIL, "$").kind = "x"  # type: ignore[misc]


def test_sanitize_payload() -> None:
    payload = {
        "metadata": {"password": "hunter2", "apiKey": {"nested": 1}, "user": "/home/al/x"},
        "feature_usage": {"alice@example.com": 3, "export_csv": 7},
        "errors": [{"message": "mail bob@example.com", "count": 2, "ok": True, "t": 1.5}],
        "cards": (4111111111111111, 42, None),
    }
    original = copy.deepcopy(payload)
    clean = sanitize_payload(payload)
    assert payload == original  # input untouched
    assert clean == {
        "metadata": {"password": REDACTED, "apiKey": REDACTED, "user": "[PATH]/x"},
        "feature_usage": {"[EMAIL]": 3, "export_csv": 7},
        "errors": [{"message": "mail [EMAIL]", "count": 2, "ok": True, "t": 1.5}],
        "cards": ("[CARD]", 42, None),
    }
    safe = {"events": [{"name": "export_csv", "tags": ["a", "b"], "ms": 12}]}
    copied = sanitize_payload(safe)
    assert copied == safe
    assert copied is not safe
    assert isinstance(copied, dict)
    assert copied["events"] is not safe["events"]
    # Only the key names remain; the backend still refuses them, by design.
    assert {f.kind for f in scan(clean)} == {SENSITIVE_KEY}


def test_long_strings_stay_linear() -> None:
    # Patterns only start at token boundaries; a quadratic one would take minutes here.
    pem_headers = PEM_BEGIN.format("") * 4_000  # each unterminated: must not scan to the end
    assert detect(pem_headers) == [PRIVATE_KEY]
    for text in ("a" * 200_000, "1" * 200_000, "ab@" * 60_000, "a:" * 100_000, "1.2." * 50_000):
        assert detect(text) == []
    assert detect("x" * 100_000 + " alice@example.com") == [EMAIL]
