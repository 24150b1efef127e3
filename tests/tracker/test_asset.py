"""GET /t/pulso.js serves the committed build from the package: compressed, cacheable, revalidatable; and the
committed build stays within its size budget."""

from __future__ import annotations

import gzip

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pulso.collect import tracker_asset
from pulso.collect.tracker_asset import TRACKER_PATH, TRACKER_URL, accepts_gzip

GZIP_BUDGET = 6144


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.include_router(tracker_asset.router)
    return TestClient(app)


def test_committed_build_is_within_the_gzip_budget() -> None:
    body = TRACKER_PATH.read_bytes()
    assert body.startswith(b"/*! pulso.js ")
    assert len(gzip.compress(body, compresslevel=9)) <= GZIP_BUDGET


def test_serves_the_packaged_tracker_gzipped_when_accepted(client: TestClient) -> None:
    response = client.get(TRACKER_URL, headers={"accept-encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["vary"] == "accept-encoding"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.content == TRACKER_PATH.read_bytes()  # httpx decodes the gzip body


def test_serves_identity_without_gzip(client: TestClient) -> None:
    response = client.get(TRACKER_URL, headers={"accept-encoding": "identity"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.content == TRACKER_PATH.read_bytes()


def test_etag_revalidation_answers_304(client: TestClient) -> None:
    etag = client.get(TRACKER_URL).headers["etag"]
    response = client.get(TRACKER_URL, headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert client.get(TRACKER_URL, headers={"if-none-match": '"stale"'}).status_code == 200


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("GZIP", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        ("br, deflate", False),
    ],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected
