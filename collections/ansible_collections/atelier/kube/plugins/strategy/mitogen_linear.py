# Copyright: (c) 2026, kube-atelier developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible's linear strategy run through Mitogen, without Mitogen's CPU pinning."""

from __future__ import annotations

DOCUMENTATION = r"""
name: mitogen_linear
short_description: The linear strategy, with Mitogen's persistent interpreters on the nodes
description:
  - Runs tasks exactly as C(ansible.builtin.linear) does, but through Mitogen (the
    C(mitogen) package pinned in requirements.txt), so one Python interpreter per node
    stays up for the whole run and keeps the modules it has imported, instead of a
    new interpreter and a module upload per task. A re-run that finds nothing to do
    takes about half the time.
  - Mitogen pins Ansible's processes to CPUs and gives their children all CPUs but
    one. On a two-core controller that leaves one CPU to every process a run starts,
    the sandbox's node containers included (kubeadm's preflight then refuses them),
    so this strategy turns the pinning off.
  - To run without Mitogen, set C(ANSIBLE_STRATEGY=linear). Without the C(mitogen)
    package it warns and runs Ansible's own linear strategy.
author: kube-atelier developers (@kube-atelier)
"""

from ansible.utils.display import Display

try:
    import ansible_mitogen.affinity
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except ImportError:
    from ansible.plugins.strategy.linear import StrategyModule as _Linear

    class StrategyModule(_Linear):
        """Ansible's own linear strategy, for a venv without the pinned mitogen package."""

        def __init__(self, tqm):
            Display().warning(
                "atelier.kube.mitogen_linear: the mitogen package is missing (scripts/setup.sh"
                " installs requirements.txt); running Ansible's own linear strategy."
            )
            super().__init__(tqm)

else:

    def _pin_nothing():
        """Mitogen's pinning policy replaced by its base class, whose methods do nothing."""
        ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

    _pin_nothing()
    _Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
        """The linear strategy with Mitogen's connections and persistent interpreters."""
