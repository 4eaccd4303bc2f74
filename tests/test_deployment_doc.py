"""docs/deployment.md lists every environment variable the code reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = ["marcus_site", "api_keys", "telemetry", "research", "cato_api", "backend", "operations"]
PATTERNS = [
    re.compile(r'env\.(?:str|int|bool|float|list|db_url)\(\s*"([A-Z][A-Z0-9_]+)"'),
    re.compile(r'env\(\s*"([A-Z][A-Z0-9_]+)"'),
    re.compile(r'os\.environ\.get\(\s*"([A-Z][A-Z0-9_]+)"'),
    re.compile(r'os\.environ\[\s*"([A-Z][A-Z0-9_]+)"\s*\]'),
    re.compile(r'os\.getenv\(\s*"([A-Z][A-Z0-9_]+)"'),
]
SCRIPT_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]+):-")
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE"}


def variables_read() -> set[str]:
    found = set()
    for folder in CODE:
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            for pattern in PATTERNS:
                found.update(pattern.findall(text))
    for script in (ROOT / "scripts").iterdir():
        found.update(SCRIPT_VARIABLE.findall(script.read_text()))
    return found - NOT_SETTINGS


def documented() -> set[str]:
    text = (ROOT / "docs" / "deployment.md").read_text()
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, flags=re.MULTILINE))


def test_every_variable_the_code_reads_is_in_the_table():
    read = variables_read()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "MARCUS_PUBLIC_READ"} <= read
    missing = sorted(read - documented())
    assert not missing, f"not in docs/deployment.md: {missing}"


def test_the_table_lists_nothing_the_code_does_not_read():
    assert sorted(documented() - variables_read()) == []
