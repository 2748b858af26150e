# kube-atelier's JupyterHub configuration (roles/lab_jupyterhub), in the
# hub's ConfigMap as the zero-to-jupyterhub chart puts its own: the hub and
# the proxy in separate pods, KubeSpawner with a PVC per user, a sqlite
# database on the hub's PVC. The decisions are in atelier_hub.py, beside it.
# JupyterHub runs this file with `c` (its config) defined.
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import atelier_hub  # noqa: E402 (from this file's folder)
from jupyterhub.auth import Authenticator  # noqa: E402
from traitlets import Dict  # noqa: E402

SETTINGS = json.loads((HERE / "settings.json").read_text())
USERS = atelier_hub.load_users(
    os.environ.get("ATELIER_HUB_USERS", "/usr/local/etc/jupyterhub/secret/users.json")
)


class AtelierAuthenticator(Authenticator):
    """The cluster's learners, each with their login card's password, and the hub's admin."""

    users = Dict(help="{name: {hash, admin}} from the hub's Secret").tag(config=True)

    async def authenticate(self, handler, data):
        return atelier_hub.authenticate(
            self.users, data.get("username", ""), data.get("password", "")
        )


c = get_config()  # noqa: F821 (JupyterHub's)
c.JupyterHub.authenticator_class = AtelierAuthenticator
c.AtelierAuthenticator.users = USERS
c.Authenticator.allowed_users = {name for name, user in USERS.items() if not user.get("admin")}
c.Authenticator.admin_users = {name for name, user in USERS.items() if user.get("admin")}

# The hub and its proxy as z2jh runs them: the proxy is its own pod, reached
# through its API Service; the hub listens on 8081 behind Service hub.
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = (
    f"http://proxy-api:{os.environ.get('PROXY_API_SERVICE_PORT', '8001')}"
)
c.JupyterHub.hub_bind_url = "http://:8081"
c.JupyterHub.hub_connect_url = f"http://hub:{os.environ.get('HUB_SERVICE_PORT', '8081')}"
c.JupyterHub.cleanup_servers = False
c.JupyterHub.last_activity_interval = 60
c.JupyterHub.tornado_settings = {"slow_spawn_timeout": 0}
c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"
c.JupyterHub.concurrent_spawn_limit = int(SETTINGS.get("concurrentSpawnLimit", 64))

c.KubeSpawner.namespace = os.environ.get("POD_NAMESPACE", "default")
for trait, value in atelier_hub.spawner_settings(SETTINGS).items():
    setattr(c.KubeSpawner, trait, value)
