# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small read-only Kubernetes API client for the readiness modules.

Connection options named like kubernetes.core's (kubeconfig, context, host,
api_key, ca_cert, validate_certs, with the same K8S_AUTH_* environment
variables), plain GETs of API paths returning JSON, and errors turned into one
line that names the host or the option at fault. Raw paths rather than the
dynamic client: no discovery cache, and aggregated APIs (metrics.k8s.io,
custom.metrics.k8s.io) are read exactly as `kubectl get --raw` reads them.
"""

from __future__ import annotations

import json
import os
import traceback
from contextlib import contextmanager

from ansible.module_utils.basic import env_fallback, missing_required_lib
from ansible_collections.atelier.kube.plugins.module_utils.kube_readiness import (
    plural_for_kind,
    scale_target_path,
)

try:
    import urllib3
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException
    from kubernetes.config.config_exception import ConfigException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()

AUTH_ARG_SPEC = {
    "kubeconfig": {"type": "path", "fallback": (env_fallback, ["K8S_AUTH_KUBECONFIG"])},
    "context": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_CONTEXT"])},
    "host": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_HOST"])},
    "api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["K8S_AUTH_API_KEY"])},
    "ca_cert": {
        "type": "path",
        "aliases": ["ssl_ca_cert"],
        "fallback": (env_fallback, ["K8S_AUTH_SSL_CA_CERT"]),
    },
    "validate_certs": {
        "type": "bool",
        "aliases": ["verify_ssl"],
        "fallback": (env_fallback, ["K8S_AUTH_VERIFY_SSL"]),
    },
    "request_timeout": {"type": "float", "default": 10.0},
}

# Answers that will not change by waiting: stop polling and say so.
FATAL_STATUS = {400, 401, 403}


class KubeConfigError(Exception):
    """The connection options cannot give a client (names the option)."""


class KubeUnreachable(Exception):
    """No HTTP answer from the API server (connection refused, TLS, timeout)."""


class KubeHTTPError(Exception):
    """The API server answered with an error status."""

    def __init__(self, status: int, reason: str, message: str, path: str):
        self.status = status
        self.reason = reason
        self.message = message
        self.path = path
        super().__init__(f"HTTP {status} {reason} for GET {path}: {message}")

    @property
    def fatal(self) -> bool:
        return self.status in FATAL_STATUS


def require_kubernetes(module) -> None:
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)


def _default_kubeconfig() -> str:
    return os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or os.path.expanduser(
        "~/.kube/config"
    )


def build_configuration(params: dict):
    """A kubernetes.client.Configuration from the module's connection options.

    kubeconfig (or $KUBECONFIG, or ~/.kube/config) and its context are read
    unless host is given without them; host, api_key, ca_cert and
    validate_certs override what the kubeconfig says."""
    configuration = k8s_client.Configuration()
    kubeconfig = params.get("kubeconfig")
    context = params.get("context")
    if kubeconfig or context or not params.get("host"):
        path = kubeconfig or _default_kubeconfig()
        field = "kubeconfig" if kubeconfig else "kubeconfig (default $KUBECONFIG or ~/.kube/config)"
        if not os.path.isfile(path):
            raise KubeConfigError(f"{field}: no file at {path}")
        try:
            k8s_config.load_kube_config(
                config_file=path,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
        except ConfigException as error:
            detail = str(error)
            if context and context in detail:
                raise KubeConfigError(f"context: {detail} (kubeconfig {path})") from error
            raise KubeConfigError(f"kubeconfig: {path}: {detail}") from error
        except Exception as error:  # a file that is not YAML, or not a kubeconfig
            raise KubeConfigError(
                f"kubeconfig: {path} is not a usable kubeconfig: {type(error).__name__}: {error}"
            ) from error
    if params.get("host"):
        host = params["host"].rstrip("/")
        if not host.startswith(("https://", "http://")):
            raise KubeConfigError(f"host: '{params['host']}' must start with https:// or http://")
        configuration.host = host
    if params.get("api_key"):
        configuration.api_key = {"authorization": "Bearer " + params["api_key"]}
    if params.get("ca_cert"):
        if not os.path.isfile(params["ca_cert"]):
            raise KubeConfigError(f"ca_cert: no file at {params['ca_cert']}")
        configuration.ssl_ca_cert = params["ca_cert"]
    if params.get("validate_certs") is not None:
        configuration.verify_ssl = params["validate_certs"]
    # One try per call: polling is the modules' business, and an unreachable
    # host should fail in seconds, not after urllib3's own retries.
    configuration.retries = False
    return configuration


def _unreachable_detail(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    text = str(reason)
    # urllib3 wraps "Connection refused" in a long repr of the connection object.
    for marker in (
        "Connection refused",
        "Name or service not known",
        "timed out",
        "CERTIFICATE_VERIFY_FAILED",
    ):
        if marker in text:
            return (
                marker
                if marker != "CERTIFICATE_VERIFY_FAILED"
                else "TLS certificate verify failed: " + text[-200:]
            )
    return f"{type(reason).__name__}: {text}"


class KubeAPI:
    """GET API paths as JSON, with errors named as KubeUnreachable/KubeHTTPError."""

    def __init__(self, params: dict):
        self.configuration = build_configuration(params)
        self.host = self.configuration.host
        self.request_timeout = params.get("request_timeout") or 10.0
        self.api_client = k8s_client.ApiClient(self.configuration)

    def get(self, path: str, query: dict | None = None) -> dict:
        method, url, headers, body, _files = self.api_client.param_serialize(
            "GET",
            path,
            query_params=list((query or {}).items()),
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        try:
            response = self.api_client.call_api(
                method, url, header_params=headers, body=body,
                _request_timeout=self.request_timeout,
            )  # fmt: skip
            raw = response.read()
        except ApiException as error:
            raise KubeHTTPError(
                error.status or 0, error.reason or "", _status_message(error.body), path
            ) from error
        except urllib3.exceptions.HTTPError as error:
            raise KubeUnreachable(
                f"cannot reach the Kubernetes API at {self.host}: {_unreachable_detail(error)}"
            ) from error
        except OSError as error:
            raise KubeUnreachable(
                f"cannot reach the Kubernetes API at {self.host}: {type(error).__name__}: {error}"
            ) from error
        if not 200 <= response.status <= 299:
            raise KubeHTTPError(response.status, response.reason or "", _status_message(raw), path)
        try:
            return json.loads(raw)
        except ValueError as error:
            raise KubeHTTPError(
                response.status, "not JSON", raw[:200].decode("utf-8", "replace"), path
            ) from error

    def get_or_none(self, path: str, query: dict | None = None) -> dict | None:
        """GET, or None for 404."""
        try:
            return self.get(path, query)
        except KubeHTTPError as error:
            if error.status == 404:
                return None
            raise


def _status_message(body) -> str:
    """The message of a metav1.Status body, or the body itself."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return ""
    try:
        status = json.loads(body)
    except ValueError:
        return str(body).strip()[:300]
    if isinstance(status, dict):
        return status.get("message") or status.get("reason") or str(status)[:300]
    return str(status)[:300]


def connect(module) -> KubeAPI:
    """A KubeAPI for the module's options, or fail_json naming the option at fault."""
    require_kubernetes(module)
    try:
        return KubeAPI(module.params)
    except KubeConfigError as error:
        module.fail_json(msg=str(error))


def wait_options(timeout: int, poll_interval: float) -> dict:
    """The timeout and poll_interval options of a waiting module, with its defaults."""
    return {
        "timeout": {"type": "int", "default": timeout},
        "poll_interval": {"type": "float", "default": poll_interval},
    }


@contextmanager
def failing_on_api_errors(module, api: KubeAPI):
    """An unreachable API or a fatal HTTP answer fails the module in one line
    naming the host, never with a traceback."""
    try:
        yield
    except KubeUnreachable as error:
        module.fail_json(msg=str(error))
    except KubeHTTPError as error:
        module.fail_json(msg=describe_http_error(error, api.host))


def describe_http_error(error: KubeHTTPError, host: str) -> str:
    hint = ""
    if error.status == 401:
        hint = " (the credentials were refused: check api_key or the kubeconfig's user)"
    elif error.status == 403:
        hint = " (the user may not read this: check its RBAC)"
    return f"the Kubernetes API at {host} answered {error}{hint}"


# ---------------------------------------------------------------- HPA reads


def hpa_path(namespace: str, name: str) -> str:
    return f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}"


class TargetReader:
    """Reads an HPA's scale target: its /scale subresource (replicas, selector)
    and the pods its selector picks. Resource names are looked up once per
    group/version in discovery, so any scalable kind works."""

    def __init__(self, api: KubeAPI):
        self.api = api
        self._plurals: dict[tuple[str, str], str | None] = {}

    def plural(self, api_version: str, kind: str) -> str | None:
        key = (api_version, kind)
        if key not in self._plurals:
            path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            discovery = self.api.get_or_none(path) or {}
            self._plurals[key] = plural_for_kind(discovery, kind)
        return self._plurals[key]

    def read(self, namespace: str, hpa: dict) -> tuple[dict | None, list[dict], str | None]:
        """(scale, pods, problem): problem says why the target could not be read."""
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        kind, name = ref.get("kind"), ref.get("name")
        api_version = ref.get("apiVersion") or "v1"
        plural = self.plural(api_version, kind)
        if not plural:
            return None, [], f"scale target {kind}/{name}: no kind {kind} in {api_version}"
        scale = self.api.get_or_none(scale_target_path(namespace, ref, plural))
        if scale is None:
            return None, [], f"scale target {kind}/{name} not found in namespace {namespace}"
        selector = (scale.get("status") or {}).get("selector")
        if not selector:
            return scale, [], f"scale target {kind}/{name} reports no pod selector"
        pods = self.api.get(f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": selector})
        return scale, pods.get("items") or [], None
