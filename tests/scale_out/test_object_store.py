"""The S3-compatible object store the scale-out tests use: a real Swift server on loopback."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.helpers.object_store import S3Store, answers_healthcheck, s3_server

pytestmark = pytest.mark.s3

MIB = 1024**2


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Store]:
    with s3_server(tmp_path_factory.mktemp("s3")) as running:
        yield running


def test_buckets_are_created_and_listed(store: S3Store) -> None:
    store.create_bucket("listed-bucket")
    names = [bucket["Name"] for bucket in store.client().list_buckets()["Buckets"]]
    assert "listed-bucket" in names


def test_an_object_round_trips_with_its_metadata(store: S3Store) -> None:
    store.create_bucket("round-trip")
    client = store.client()
    client.put_object(Bucket="round-trip", Key="a/b.txt", Body=b"hello", Metadata={"k": "v"})
    answer = client.get_object(Bucket="round-trip", Key="a/b.txt")
    assert answer["Body"].read() == b"hello"
    assert answer["Metadata"] == {"k": "v"}
    listed = client.list_objects_v2(Bucket="round-trip", Prefix="a/")["Contents"]
    assert [(item["Key"], item["Size"]) for item in listed] == [("a/b.txt", 5)]


def test_a_multipart_upload_comes_back_whole(store: S3Store) -> None:
    store.create_bucket("multipart")
    client = store.client()
    data = os.urandom(20 * MIB)  # three parts: 8 + 8 + 4 MiB
    parts = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB)
    client.upload_fileobj(io.BytesIO(data), "multipart", "big.bin", Config=parts)
    head = client.head_object(Bucket="multipart", Key="big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")  # S3's multipart ETag: <md5 of md5s>-<parts>
    body = client.get_object(Bucket="multipart", Key="big.bin")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()


def test_a_missing_key_is_no_such_key(store: S3Store) -> None:
    store.create_bucket("missing-key")
    with pytest.raises(ClientError) as raised:
        store.client().get_object(Bucket="missing-key", Key="absent")
    assert raised.value.response["Error"]["Code"] == "NoSuchKey"


def test_a_missing_bucket_is_no_such_bucket(store: S3Store) -> None:
    with pytest.raises(ClientError) as raised:
        store.client().get_object(Bucket="never-created", Key="absent")
    assert raised.value.response["Error"]["Code"] == "NoSuchBucket"


def test_a_wrong_secret_is_refused(store: S3Store) -> None:
    with pytest.raises(ClientError) as raised:
        store.client(secret_key="not-the-secret").list_buckets()
    assert raised.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_unknown_access_key_is_refused(store: S3Store) -> None:
    stranger = dataclasses.replace(store, access_key="nobody:nohow")
    with pytest.raises(ClientError) as raised:
        stranger.client().list_buckets()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def launcher_processes(folder: Path) -> list[int]:
    """The pids whose command line names ``folder`` (the launcher's argument)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(folder).encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:  # the process ended while we looked
            continue
    return pids


def test_nothing_is_left_running_after_the_server_stops(tmp_path: Path) -> None:
    with s3_server(tmp_path) as running:
        assert answers_healthcheck(running.endpoint_url)
        assert launcher_processes(tmp_path)
    assert not launcher_processes(tmp_path)
    assert not answers_healthcheck(running.endpoint_url)
