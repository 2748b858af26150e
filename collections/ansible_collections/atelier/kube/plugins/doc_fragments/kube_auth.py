# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of the readiness modules (a subset of kubernetes.core's)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file. Defaults to the first file of E(KUBECONFIG), then
        C(~/.kube/config), unless O(host) is given alone.
      - Can also be set with the E(K8S_AUTH_KUBECONFIG) environment variable.
    type: path
  context:
    description:
      - A context of the kubeconfig; its current context when not given.
      - Can also be set with E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the API server (C(https://...)); overrides the kubeconfig's.
      - Can also be set with E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token to authenticate with; overrides the kubeconfig's user.
      - Can also be set with E(K8S_AUTH_API_KEY).
    type: str
  ca_cert:
    description:
      - Path to the CA certificate of the API server; overrides the kubeconfig's.
      - Can also be set with E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description:
      - Whether to verify the API server's certificate; the kubeconfig decides when not given.
      - Can also be set with E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  request_timeout:
    description: Seconds one API request may take before it counts as unreachable.
    type: float
    default: 10.0
requirements:
  - kubernetes (Python client)
notes:
  - The module only reads from the API and changes nothing.
"""
