"""Stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test fetches get-pip from a host this machine cannot reach before it
builds each sanity test's venv. This script does the same job from what is
reachable: the pip that Python bundles (ensurepip), then the pip version
ansible-test asks for, from PyPI. scripts/sanity.sh puts it in ansible-test's
cache under the name ansible-test looks for.
"""

import subprocess
import sys

# get-pip's own flags; pip install does not know them.
GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}

# In a child process: ensurepip clears pip's configuration in its own process
# environment, and the install below needs the machine's pip.conf (CA bundle).
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
pip_args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
subprocess.check_call([sys.executable, "-m", "pip", "install", *pip_args])
