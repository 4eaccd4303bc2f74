"""The group writer: many requests per commit, each answered, failures isolated."""

import asyncio

import pytest

from marcus_site.group_commit import GroupWriter


class Refused(Exception):
    pass


def make_writer(groups: list[list[str]]) -> GroupWriter:
    def write_group(payloads):
        groups.append(list(payloads))
        if "bad" in payloads:
            raise Refused("bad payload")
        return [payload.upper() for payload in payloads]

    return GroupWriter(write_group, name="test", max_weight=10)


@pytest.mark.django_db(transaction=True)
async def test_concurrent_submissions_share_groups_and_get_their_own_results():
    groups: list[list[str]] = []
    writer = make_writer(groups)
    results = await asyncio.gather(*(writer.submit(f"p{i}") for i in range(30)))
    assert results == [f"P{i}" for i in range(30)]
    assert len(groups) < 30  # grouped
    assert all(len(group) <= 10 for group in groups)


@pytest.mark.django_db(transaction=True)
async def test_a_failing_payload_fails_only_its_own_request():
    groups: list[list[str]] = []
    writer = make_writer(groups)
    results = await asyncio.gather(
        *(writer.submit(payload) for payload in ["a", "bad", "c", "d"]), return_exceptions=True
    )
    assert results[0] == "A" and results[2] == "C" and results[3] == "D"
    assert isinstance(results[1], Refused)
