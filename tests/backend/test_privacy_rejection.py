"""Personal data anywhere in a batch is refused with its kind and place, before any field
check, and nothing of the batch is stored; look-alikes pass."""

import pytest

from backend.models import TelemetryBatch
from telemetry.privacy import SENSITIVE_KEY, detect
from tests.backend.helpers import BATCH_URL, batch, figures
from tests.telemetry.test_privacy import LOOKALIKES, PERSONAL_DATA

pytestmark = pytest.mark.django_db


def _one_sample_per_kind() -> dict[str, str]:
    """For each kind, the first sample of the privacy corpus in which it is the only kind."""
    samples: dict[str, str] = {}
    for text, kind in PERSONAL_DATA:
        if kind not in samples and detect(text) == [kind]:
            samples[kind] = text
    return samples


SAMPLES = _one_sample_per_kind()


def _in_context(text):
    body = batch()
    body["errors"][0]["contexts"].append(text)
    return body, "errors[0].contexts[2]"


def _as_error_type(text):
    body = batch()
    body["errors"][0]["error_type"] = text
    return body, "errors[0].error_type"


def _as_version(text):
    return batch(marcus_version=text), "marcus_version"


def _as_feature_name(text):
    return batch(feature_usage={"task_assigned": 1, text: 3}), "feature_usage.<{kind}>"


def _as_milestone_type(text):
    return batch(milestones={text: figures(1, 1, 0, 2.0)}), "milestones.<{kind}>"


def _as_key_inside_figures(text):
    body = batch()
    body["milestones"]["deployment"][text] = 1
    return body, "milestones.deployment.<{kind}>"


def _deep_in_an_unknown_field(text):
    return batch(extra={"runs": [{"ok": True}, {"cwd": text}]}), "extra.runs[1].cwd"


def _in_a_list_of_lists(text):
    return batch(notes=[["fine", text]]), "notes[0][1]"


PLACES = [
    _in_context,
    _as_error_type,
    _as_version,
    _as_feature_name,
    _as_milestone_type,
    _as_key_inside_figures,
    _deep_in_an_unknown_field,
    _in_a_list_of_lists,
]


def test_the_corpus_gives_a_sample_of_every_kind():
    assert len(SAMPLES) == len({kind for _, kind in PERSONAL_DATA}) == 11


@pytest.mark.parametrize("place", PLACES, ids=[place.__name__.strip("_") for place in PLACES])
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_kind_is_refused_at_each_place(anonymous_client, kind, place):
    text = SAMPLES[kind]
    body, path = place(text)
    response = anonymous_client.post(BATCH_URL, body, format="json")
    assert response.status_code == 400
    expected = f"Telemetry validation failed: {kind} at {path.format(kind=kind)}"
    assert response.json() == {"detail": expected}
    assert text not in response.content.decode()
    assert not TelemetryBatch.objects.exists()


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (batch(password="hunter2"), "password"),
        (batch(feature_usage={"api_key": 1}), "feature_usage.api_key"),
        (batch(milestones={"user_email": figures(1, 1, 0, 1)}), "milestones.user_email"),
        (batch(extra=[{"accessToken": None}]), "extra[0].accessToken"),
    ],
)
def test_a_sensitive_field_name_is_refused_wherever_it_is(anonymous_client, body, path):
    response = anonymous_client.post(BATCH_URL, body, format="json")
    assert response.json() == {"detail": f"Telemetry validation failed: {SENSITIVE_KEY} at {path}"}


def test_the_privacy_check_comes_before_the_field_checks(anonymous_client):
    """A batch that breaks field rules too gets the privacy answer: it is judged first."""
    body = batch(installation_id="nope", os_type="beos")
    body["errors"][0]["contexts"] = ["see /home/alice/notes"]
    response = anonymous_client.post(BATCH_URL, body, format="json")
    assert response.json() == {
        "detail": "Telemetry validation failed: file path with username at errors[0].contexts[0]"
    }


def test_the_first_finding_in_document_order_is_reported(anonymous_client):
    body = batch(marcus_version="10.0.0.1")
    body["errors"][0]["contexts"] = ["alice@example.com"]
    response = anonymous_client.post(BATCH_URL, body, format="json")
    assert response.json()["detail"].endswith("IP address at marcus_version")


def test_look_alikes_are_accepted(anonymous_client):
    """Every look-alike of the privacy corpus, as an error context, passes; so do key names
    that merely contain a sensitive word."""
    chunks = [LOOKALIKES[start : start + 10] for start in range(0, len(LOOKALIKES), 10)]
    errors = [
        {"error_type": f"Error{number}", "count": 1, "contexts": chunk}
        for number, chunk in enumerate(chunks)
    ]
    usage = {"token_count": 1, "max_tokens": 2, "email_sent_count": 3, "password_reset_flow": 4}
    milestones = {"tokenizer_setup": figures(1, 1, 0, 1.0), "author_review": figures(2, 0, 2, 0)}
    response = anonymous_client.post(
        BATCH_URL,
        batch(errors=errors, feature_usage=usage, milestones=milestones),
        format="json",
    )
    assert response.status_code == 200, response.content
    stored = TelemetryBatch.objects.get().raw
    assert [context for group in stored["errors"] for context in group["contexts"]] == LOOKALIKES
