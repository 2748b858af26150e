"""Snapshotter (module_utils/server_image.py), the logic of os_server_image,
against FakeConnection: a stand-in for openstacksdk's connection that keeps
images in a list and moves a snapshot through the statuses a cloud reports.
The real image service was exercised by the sandbox bake
(tests/test_node_image_sandbox.py)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from ansible_collections.atelier.kube.plugins.module_utils.server_image import (
    SnapshotError,
    Snapshotter,
)

DIGEST = {"kube_atelier_digest": "d1"}


class FakeImage(SimpleNamespace):
    def upload(self, _service):
        self.uploaded = self.data.read()
        self.status = "active"


class FakeConnection:
    """Images in a list; a snapshot starts queued and becomes `ends` after
    `polls` reads (a cloud whose compute writes the data), or stays queued
    until data is uploaded (the sandbox's fake compute)."""

    def __init__(self, ends="active", polls=1, servers=("builder",)):
        self.all = []
        self.ids = itertools.count(1)
        self.ends, self.polls, self.servers = ends, polls, servers
        self.image = SimpleNamespace(
            images=lambda: list(self.all),
            delete_image=self._delete,
            get_image=self._get,
            update_image=self._update,
        )
        self.compute = SimpleNamespace(
            find_server=lambda name, ignore_missing: name if name in self.servers else None,
            create_server_image=self._snapshot,
        )

    def add(self, name, status="active", properties=None):
        image = FakeImage(id=f"i{next(self.ids)}", name=name, status=status, size=1,
                          properties=properties or {}, reads=0)  # fmt: skip
        self.all.append(image)
        return image

    def _delete(self, image, ignore_missing):
        image_id = getattr(image, "id", image)
        self.all = [i for i in self.all if i.id != image_id]

    def _get(self, image_id):
        image = next(i for i in self.all if i.id == image_id)
        image.reads += 1
        if self.ends != "queued" and image.reads >= self.polls:
            image.status = self.ends
        return image

    def _update(self, image, **formats):
        image.formats = formats
        return image

    def _snapshot(self, server, name, metadata, wait):
        assert not wait
        return self.add(name, status="queued", properties=dict(metadata))


def snapshotter(conn, **kwargs):
    return Snapshotter(conn, timeout=kwargs.pop("timeout", 5), poll_interval=0, **kwargs)


def test_a_snapshot_is_made_with_its_properties_and_waited_for():
    conn = FakeConnection(polls=3)
    changed, image, deleted = snapshotter(conn).ensure_present("builder", "img", DIGEST)
    assert changed and deleted == []
    assert image["status"] == "active" and image["properties"] == DIGEST
    assert [i.name for i in conn.all] == ["img"]


def test_a_matching_active_image_is_kept_and_nothing_is_made():
    conn = FakeConnection()
    kept = conn.add("img", properties=dict(DIGEST))
    changed, image, deleted = snapshotter(conn).ensure_present("builder", "img", DIGEST)
    assert (changed, image["id"], deleted) == (False, kept.id, [])


def test_a_queued_leftover_and_an_older_bake_of_the_name_are_replaced():
    conn = FakeConnection()
    leftover = conn.add("img", status="queued", properties=dict(DIGEST))
    older = conn.add("img", properties={"kube_atelier_digest": "d0"})
    changed, image, deleted = snapshotter(conn).ensure_present("builder", "img", DIGEST)
    assert changed and sorted(deleted) == sorted([leftover.id, older.id])
    assert [i.id for i in conn.all] == [image["id"]]


def test_a_duplicate_of_a_kept_image_is_deleted():
    conn = FakeConnection()
    kept = conn.add("img", properties=dict(DIGEST))
    extra = conn.add("img", properties=dict(DIGEST))
    changed, image, deleted = snapshotter(conn).ensure_present("builder", "img", DIGEST)
    assert (changed, image["id"], deleted) == (True, kept.id, [extra.id])


def test_the_data_is_uploaded_where_the_compute_writes_none(tmp_path):
    conn = FakeConnection(ends="queued")
    archive = tmp_path / "node.tar"
    archive.write_bytes(b"layers")
    changed, image, deleted = snapshotter(conn).ensure_present(
        "builder", "img", DIGEST, upload=str(archive), container_format="docker"
    )
    assert changed and image["status"] == "active" and deleted == []
    assert conn.all[0].uploaded == b"layers" and conn.all[0].formats == {
        "container_format": "docker"
    }


@pytest.mark.parametrize("ends", ["killed", "queued"])
def test_a_snapshot_that_fails_or_never_ends_is_deleted(ends):
    conn = FakeConnection(ends=ends)
    with pytest.raises(SnapshotError, match=r"img (ended killed|still queued after 0s)"):
        snapshotter(conn, timeout=0).ensure_present("builder", "img", DIGEST)
    assert conn.all == []


def test_a_failed_upload_leaves_no_image(tmp_path):
    conn = FakeConnection(ends="queued")
    with pytest.raises(FileNotFoundError):
        snapshotter(conn).ensure_present("builder", "img", DIGEST, upload=str(tmp_path / "gone"))
    assert conn.all == []


def test_an_unknown_server_is_named_and_nothing_is_made():
    conn = FakeConnection()
    with pytest.raises(SnapshotError, match="server nobody: not found"):
        snapshotter(conn).ensure_present("nobody", "img", DIGEST)
    assert conn.all == []


def test_absent_deletes_every_image_of_the_name_only():
    conn = FakeConnection()
    doomed = [conn.add("img"), conn.add("img", status="queued")]
    other = conn.add("other")
    deleted = snapshotter(conn).ensure_absent("img")
    assert sorted(deleted) == sorted(i.id for i in doomed)
    assert conn.all == [other]


def test_check_mode_deletes_and_makes_nothing():
    conn = FakeConnection()
    conn.add("img", properties={"kube_atelier_digest": "d0"})
    changed, image, deleted = snapshotter(conn, check_mode=True).ensure_present(
        "builder", "img", DIGEST
    )
    assert changed and image == {} and len(deleted) == 1
    assert len(conn.all) == 1
