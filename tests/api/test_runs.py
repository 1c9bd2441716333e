"""Starting a classification run through the API and following it."""

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from engine.domain import RunKind, RunStatus, StaffRole
from tests.api.conftest import bearer, token_for
from tests.test_launch import wait_for_run
from tests.test_pipeline import _demo
from webapp.database import db
from webapp.models import ClassificationRun, StaffUser
from webapp.pipeline.locks import RUN_LOCK, exclusive


def _client(app: Flask, create_user: Callable[..., StaffUser], role: StaffRole
            ) -> tuple[FlaskClient, dict[str, str]]:
    create_user(role, f"api-{role.value}")
    return app.test_client(), bearer(token_for(f"api-{role.value}"))


def _runs() -> list[int]:
    with db.engine.connect() as conn:
        return list(conn.scalars(select(ClassificationRun.id).order_by(ClassificationRun.id)))


def test_an_admin_token_starts_a_run_and_follows_it(
        app: Flask, engine: Engine, create_user: Callable[..., StaffUser]) -> None:
    _demo(app, 60)
    before = _runs()
    client, headers = _client(app, create_user, StaffRole.ADMIN)
    started = client.post("/api/v1/runs", json={"kind": "full", "as_of": "2026-11-23"},
                          headers=headers)
    assert started.status_code == 202, started.get_json()
    body = started.get_json()
    assert _runs() == [*before, body["id"]]
    assert (body["kind"], body["as_of"]) == ("full", "2026-11-23")
    assert body["status"] in ("running", "finished")
    assert started.headers["Location"].endswith(f"/api/v1/runs/{body['id']}")
    run = wait_for_run(body["id"])
    assert run.status is RunStatus.FINISHED and run.kind is RunKind.FULL
    viewer, viewer_headers = _client(app, create_user, StaffRole.VIEWER)
    status = viewer.get(f"/api/v1/runs/{body['id']}", headers=viewer_headers).get_json()
    assert (status["status"], status["customers"]) == ("finished", run.customers)
    assert status["customers"] > 0 and status["finished_at"]
    assert viewer.post("/api/v1/runs", json={"kind": "full"},
                       headers=viewer_headers).status_code == 403


def test_a_run_is_refused_while_another_is_going(
        app: Flask, engine: Engine, create_user: Callable[..., StaffUser]) -> None:
    client, headers = _client(app, create_user, StaffRole.ADMIN)
    with exclusive(engine, RUN_LOCK) as held:
        assert held
        response = client.post("/api/v1/runs", json={"kind": "changed"}, headers=headers)
    assert response.status_code == 409
    assert "in progress" in response.get_json()["message"]
    assert _runs() == []


def test_a_bad_run_request_names_the_field(
        app: Flask, engine: Engine, create_user: Callable[..., StaffUser]) -> None:
    client, headers = _client(app, create_user, StaffRole.ADMIN)
    for body, fields in [({}, {"kind"}), ({"kind": "published"}, {"kind"}),
                         ({"kind": "full", "as_of": "1066-10-14"}, {"as_of"}),
                         ({"kind": ["full"], "as_of": 20261123}, {"kind", "as_of"})]:
        response = client.post("/api/v1/runs", json=body, headers=headers)
        assert response.status_code == 400
        assert set(response.get_json()["errors"]["json"]) == fields, body
    for run_id in ("5", "99999999999999999999"):
        assert client.get(f"/api/v1/runs/{run_id}", headers=headers).status_code == 404
    assert _runs() == []
