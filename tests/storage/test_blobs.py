"""The blob store on a local folder and on an S3-compatible server running in the test."""

from __future__ import annotations

import stat
from pathlib import Path

import boto3
import pytest

from storage.blobs import BlobNotFound, BlobStore, LocalBlobStore, S3BlobStore, open_blob_store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return open_blob_store(f"file://{tmp_path / 'blobs'}")
    request.getfixturevalue("s3_credentials")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"city-{tmp_path.name.lower().replace('_', '-')[-30:]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return open_blob_store(f"s3://{bucket}/switchboard/recordings", s3_endpoint_url=endpoint)


def test_write_read_ranges_and_delete(store: BlobStore) -> None:
    data = bytes(range(256)) * 100
    store.put("recordings/2026/11/RE1.sbm", data)
    assert store.size("recordings/2026/11/RE1.sbm") == len(data)
    assert store.get("recordings/2026/11/RE1.sbm") == data
    assert store.get("recordings/2026/11/RE1.sbm", 1000, 300) == data[1000:1300]
    assert store.get("recordings/2026/11/RE1.sbm", 25_000) == data[25_000:]
    store.put("recordings/2026/11/RE1.sbm", b"replaced")
    assert store.get("recordings/2026/11/RE1.sbm") == b"replaced"
    store.delete("recordings/2026/11/RE1.sbm")
    store.delete("recordings/2026/11/RE1.sbm")  # gone already: no error
    with pytest.raises(BlobNotFound):
        store.get("recordings/2026/11/RE1.sbm")


def test_local_files_are_private_and_stay_inside_the_store(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put("a/b.sbm", b"x")
    assert stat.S_IMODE((tmp_path / "blobs" / "a" / "b.sbm").stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="leaves the store"):
        store.put("../escape", b"x")


def test_s3_keys_carry_the_prefix(s3_credentials: None, s3_endpoint: str) -> None:
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket="prefixed")
    store = S3BlobStore("prefixed", "/city/311/", client)
    store.put("x.sbm", b"data")
    keys = [item["Key"] for item in client.list_objects_v2(Bucket="prefixed")["Contents"]]
    assert keys == ["city/311/x.sbm"]


def test_unknown_blob_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="BLOB_URL"):
        open_blob_store("ftp://files/x")
