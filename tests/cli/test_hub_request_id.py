"""A script's ``--request-id`` through a real hub process: a retry acts once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import hub_process, run


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """A demo branch with two waiting tickets, its hub on 127.0.0.1, and T01's credentials."""
    data = tmp_path / "d"
    run(data, "demo", "--customers", "50")
    run(data, "ticket", "--business", "cash")
    run(data, "ticket", "--business", "cash")
    _, key, _ = run(data, "station-key")
    with hub_process(data) as port:
        creds = ["--hub", f"ws://127.0.0.1:{port}", "--key", key["station_key"]]
        yield data, [*creds, "--staff", "T01", "--pin", "1234"]


def test_same_request_id_through_the_hub_calls_one_ticket(
    hub: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """Defect pinned (issue 16 item 7): ``call --request-id R --hub …`` ignored the id, so a
    script retrying after a lost answer called a second customer. Now the id goes to the hub,
    which answers the retry with the first call (A001) and A002 keeps waiting; a new id
    calls A002."""
    data, creds = hub
    _, first, _ = run(tmp_path, "call", "--window", "1", "--request-id", "retry-1", *creds)
    _, again, _ = run(tmp_path, "call", "--window", "1", "--request-id", "retry-1", *creds)
    assert first["number"] == again["number"] == "A001"
    assert first["ticket_id"] == again["ticket_id"]
    _, queue, _ = run(data, "queue")
    assert [w["number"] for w in queue["waiting"]] == ["A002"]
    _, other, _ = run(tmp_path, "call", "--window", "1", "--request-id", "retry-2", *creds)
    assert other["number"] == "A002"
    rc, reused, _ = run(
        tmp_path, "finish", "--window", "1", "--request-id", "retry-1", *creds, ok=False
    )
    assert rc == 2 and reused["error"] == "request_id_reused"
