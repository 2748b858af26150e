# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot a server into one named image, or delete the images of a name,
on an openstacksdk connection (atelier.kube.os_server_image is the module
around it; the unit tests give it a fake connection)."""

from __future__ import annotations

import time

DIGEST = "kube_atelier_digest"
FAILED = ("killed", "deleted", "deactivated")


class SnapshotError(Exception):
    """What went wrong, in a sentence; `changed` says whether the cloud was touched."""

    def __init__(self, message: str, changed: bool = True):
        super().__init__(message)
        self.changed = changed


def describe(image) -> dict:
    return {
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "size": image.size,
        "properties": dict(image.properties or {}),
    }


class Snapshotter:
    def __init__(self, conn, timeout: float = 1800, poll_interval: float = 3.0, check_mode=False):
        self.conn = conn
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.check_mode = check_mode

    def images(self, name: str) -> list:
        return [image for image in self.conn.image.images() if image.name == name]

    def delete(self, images) -> list[str]:
        if not self.check_mode:
            for image in images:
                self.conn.image.delete_image(image, ignore_missing=True)
        return [image.id for image in images]

    def ensure_absent(self, name: str) -> list[str]:
        """IDs of the images of that name, deleted whatever their status."""
        return self.delete(self.images(name))

    def ensure_present(
        self, server: str, name: str, properties: dict, upload: str | None = None, **formats
    ) -> tuple[bool, dict, list[str]]:
        """(changed, image, deleted ids). An active image of the name whose
        digest property is the wanted one is kept and the others of the name
        deleted; else every image of the name is deleted and a new snapshot
        made. A snapshot that fails is deleted before the error is raised."""
        properties = {key: str(value) for key, value in properties.items()}
        existing = self.images(name)
        wanted = properties.get(DIGEST)
        keep = next(
            (
                image
                for image in existing
                if image.status == "active"
                and wanted is not None
                and (image.properties or {}).get(DIGEST) == wanted
            ),
            None,
        )
        if keep is not None:
            extra = self.delete([image for image in existing if image is not keep])
            return bool(extra), describe(keep), extra
        deleted = self.delete(existing)
        if self.check_mode:
            return True, {}, deleted
        found = self.conn.compute.find_server(server, ignore_missing=True)
        if found is None:
            raise SnapshotError(f"server {server}: not found", changed=bool(deleted))
        image = self.conn.compute.create_server_image(found, name, metadata=properties, wait=False)
        try:
            if upload:
                image = self.conn.image.update_image(image, **formats)
                with open(upload, "rb") as data:
                    image.data = data
                    image.upload(self.conn.image)
            return True, describe(self._wait_active(image.id, name)), deleted
        except BaseException:
            # No half-made image is left behind: a later run would find it.
            self.conn.image.delete_image(image.id, ignore_missing=True)
            raise

    def _wait_active(self, image_id: str, name: str):
        deadline = time.monotonic() + self.timeout
        while True:
            image = self.conn.image.get_image(image_id)
            if image.status == "active":
                return image
            if image.status in FAILED:
                raise SnapshotError(f"image {name} ended {image.status}")
            if time.monotonic() > deadline:
                raise SnapshotError(f"image {name} still {image.status} after {self.timeout:.0f}s")
            time.sleep(self.poll_interval)
