#!/usr/bin/env bash
# Starts or removes the sandbox nodes of inventories/sandbox: privileged podman
# containers of the node image, systemd as PID 1, on their own network, able
# to run a kubelet (docs/sandbox-cluster-findings.md says why each flag):
# - not podman's systemd mode: on this cgroup v1/v2 hybrid host it bind-mounts
#   the host's name=systemd hierarchy, and the node's systemd then takes the
#   host's root of it as its own; a private cgroup namespace and what systemd
#   mode adds (container=podman, tmpfs /run, /run/lock, /tmp) instead;
# - containerd's state on a volume per node (off the overlay root, not in RAM);
# - scripts/sandbox-node/kube-atelier-node-prep.service before containerd and
#   the kubelet (mount propagation, a shield over the host's kernel settings).
#   scripts/sandbox-nodes.sh up | down | status | remove NAME...
#   scripts/sandbox-nodes.sh start [--image BAKE] [--key PUBKEY] NAME...
#   scripts/sandbox-nodes.sh commit NAME IMAGE_NAME
# start: the machines of servers the sandbox cloud made (provision.yml, and
# image.yml for its builder), from the node image or a baked one; as
# cloud-init does with the server's keypair, PUBKEY becomes root's authorized
# key, and ssh_config beside it (the cohort's secrets folder) is written anew,
# naming each running sandbox machine by its server name, at its container's
# address (Ansible reaches the nodes
# over SSH, as on a cloud: one pipelined session per task, where a podman
# exec costs several processes);
# remove: those machines' containers and volumes, as a deleted server takes
# its machine with it (scripts/rebuild.sh; `up` makes them anew);
# commit: a builder to the podman image IMAGE_NAME (image.yml's bake), saved
# under the cache; prints the archive's path (uploaded to the image service).
# The builder's containerd store, on a volume that a commit leaves out, is
# kept beside it as the bake's store; a node started from the baked image
# gets a volume of hard links to it (no copy: committed snapshots and blobs
# are never written again, and the few files containerd writes in place,
# its bolt databases, are real copies). Only the newest bake is kept.
# has-baked IMAGE_NAME: exit 0 when that bake's podman image and store are here.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

NETWORK=kube-atelier-sandbox
NODES=(sandbox-c01-n1 sandbox-c01-n2 sandbox-c01-n3)
IMAGE=${ATELIER_NODE_IMAGE:-localhost/kube-atelier-node:debian12}
PREP=$ATELIER_ROOT/scripts/sandbox-node
# kubeadm_cluster_service_cidr and kubeadm_cluster_pod_cidr, the defaults the
# sandbox cohort keeps (a unit test holds them equal to the role's).
CLUSTER_RANGES=(10.96.0.0/12 10.244.0.0/16)
GUARD_TABLE=kube_atelier_sandbox

# A packet for a Service address that kube-proxy has not translated yet (the
# kube-apiserver dials a new APIService's Service within a second of its
# creation) leaves through the host's default route. A cloud drops it; on
# this machine an egress proxy answers any address on port 443 (with a 404),
# and the aggregator kept that connection, so the APIService never became
# Available. Refused here, the dial fails at once, the next one is translated,
# and no traffic for the cluster's ranges gets past this host.
guard_cluster_ranges() {
  apt_install nftables
  local subnet ranges
  subnet=$(podman network inspect -f '{{range .Subnets}}{{.Subnet}}{{end}}' "$NETWORK")
  ranges=$(IFS=,; echo "${CLUSTER_RANGES[*]}")
  nft delete table inet "$GUARD_TABLE" 2>/dev/null || true
  # A table of its own, before the forward hook's other chains (netavark's),
  # whatever order they are in. A TCP reset also ends a connection already
  # made astray (ICMP would leave it hanging until it times out).
  nft -f - <<RULES
table inet $GUARD_TABLE {
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    ip saddr $subnet ip daddr { $ranges } meta l4proto tcp counter reject with tcp reset
    ip saddr $subnet ip daddr { $ranges } counter reject
  }
}
RULES
}

# The podman image and containerd store of a baked node image (playbooks/image.yml).
BAKED=$ATELIER_CACHE/baked
baked_image() { echo "localhost/kube-atelier-node:$1"; }
baked_store() { echo "$BAKED/$1.containerd"; }

volume_dir() { podman volume inspect -f '{{.Mountpoint}}' "$1"; }

# A new node volume from a bake's store: hard links, bolt databases copied.
seed_volume() {
  local store=$1 target
  target=$(volume_dir "$2")
  cp -al "$store/." "$target/" 2>/dev/null || cp -a "$store/." "$target/"
  (cd "$store" && find . -name '*.db' -type f) | while read -r db; do
    cp --remove-destination "$store/$db" "$target/$db"
  done
}

start_node() {
  local node=$1 image=${2:-$IMAGE} store=${3:-}
  if ! podman volume exists "$node-containerd"; then
    podman volume create "$node-containerd" >/dev/null
    [ -z "$store" ] || seed_volume "$store" "$node-containerd"
  fi
  podman run -d --name "$node" --hostname "$node" --network "$NETWORK" \
    --privileged --systemd false --cgroupns private --env container=podman \
    --tmpfs /run:rw,exec,mode=755 --tmpfs /run/lock --tmpfs /tmp:rw,exec,mode=1777 \
    --volume "$node-containerd:/var/lib/containerd" \
    --label io.kube-atelier.sandbox=true "$image" /sbin/init >/dev/null
  podman cp "$PREP/kube-atelier-node-prep" "$node:/usr/local/sbin/kube-atelier-node-prep"
  podman cp "$PREP/kube-atelier-node-prep.service" "$node:/etc/systemd/system/kube-atelier-node-prep.service"
  # systemd needs a moment to be PID 1 and answer; then the prep runs now and at every boot.
  local attempt
  for attempt in $(seq 1 30); do
    podman exec "$node" systemctl daemon-reload 2>/dev/null && break
    ((attempt < 30)) || die "$node: systemd did not answer"
    sleep 1
  done
  podman exec "$node" systemctl enable -q --now kube-atelier-node-prep.service
  # sshd may have started before the prep made the host keys a bake removed.
  podman exec "$node" systemctl restart ssh
}

# Root's authorized key on a running machine, as cloud-init installs the server's keypair.
authorize_key() {
  podman exec -i "$1" sh -c 'umask 077 && mkdir -p /root/.ssh && cat >/root/.ssh/authorized_keys' <"$2"
}

# An ssh_config for every running sandbox machine: its name, its container's
# address. Machines are made anew under the same names, each with new host keys.
write_ssh_config() {
  local file=$1 name address
  {
    echo "# Written by scripts/sandbox-nodes.sh: the sandbox's machines, by server name."
    podman ps --filter label=io.kube-atelier.sandbox=true --format '{{.Names}}' | sort |
      while read -r name; do
        address=$(podman container inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$name")
        printf 'Host %s\n  HostName %s\n' "$name" "$address"
      done
    printf 'Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n'
  } >"$file.tmp"
  chmod 600 "$file.tmp" && mv "$file.tmp" "$file"
}

ensure_network() {
  podman network exists "$NETWORK" || podman network create "$NETWORK" >/dev/null
  guard_cluster_ranges
}

# A sandbox machine is a node of inventories/sandbox or a cohort's image builder.
check_name() {
  [[ " ${NODES[*]} " == *" $1 "* || $1 =~ ^[a-z0-9-]+-image-builder$ ]] \
    || die "'$1' is not a sandbox machine (${NODES[*]} or <cohort>-image-builder)"
}

# start_machines IMAGE STORE NAME...: each machine not running, started anew
# from IMAGE (its volume seeded from STORE when not empty).
start_machines() {
  local image=$1 store=$2 node
  shift 2
  ensure_network
  for node in "$@"; do
    check_name "$node"
    if [ "$(podman container inspect -f '{{.State.Running}}' "$node" 2>/dev/null)" = true ]; then
      continue
    fi
    podman rm -f "$node" >/dev/null 2>&1 || true
    start_node "$node" "$image" "$store"
    log "started $node from $image"
  done
}

# A machine and its disk, as a deleted server takes them.
remove_machine() {
  podman rm -f -t 5 "$1" >/dev/null 2>&1 || true
  podman volume rm -f "$1-containerd" >/dev/null 2>&1 || true
}

case ${1:-} in
  up)
    start_machines "$IMAGE" "" "${NODES[@]}"
    ;;
  down)
    for node in "${NODES[@]}"; do remove_machine "$node"; done
    podman network rm "$NETWORK" >/dev/null 2>&1 || true
    nft delete table inet "$GUARD_TABLE" 2>/dev/null || true
    log "sandbox nodes removed"
    ;;
  start)
    shift
    image=$IMAGE store='' key=''
    while [[ ${1:-} == --* ]]; do
      (($# >= 2)) || die "$1 needs a value"
      case $1 in
        --image)
          image=$(baked_image "$2") store=$(baked_store "$2")
          if ! podman image exists "$image" || [ ! -d "$store" ]; then
            die "no podman image $image or store $store: bake it again (playbooks/image.yml)"
          fi
          ;;
        --key) key=$2; [ -f "$key" ] || die "no public key $key" ;;
        *) die "start: unknown option $1 (--image, --key)" ;;
      esac
      shift 2
    done
    start_machines "$image" "$store" "$@"
    if [ -n "$key" ]; then
      for node in "$@"; do authorize_key "$node" "$key"; done
      write_ssh_config "$(dirname "$key")/ssh_config"
    fi
    ;;
  commit)
    (($# == 3)) || die "usage: $0 commit NAME IMAGE_NAME"
    check_name "$2"
    image=$(baked_image "$3") store=$(baked_store "$3")
    archive=$BAKED/$3.tar
    podman stop -t 30 "$2" >/dev/null
    podman commit -q --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' \
      --change "LABEL io.kube-atelier.baked=$3" "$2" "$image" >/dev/null
    mkdir -p "$BAKED"
    podman save -q -o "$archive.tmp" "$image" && mv "$archive.tmp" "$archive"
    rm -rf "$store.tmp" && mkdir "$store.tmp"
    cp -al "$(volume_dir "$2-containerd")/." "$store.tmp/" && rm -rf "$store" && mv "$store.tmp" "$store"
    # Earlier bakes: GBs each, never booted again once a newer one exists.
    for old in $(podman images --format '{{.Repository}}:{{.Tag}}' --filter label=io.kube-atelier.baked); do
      [ "$old" = "$image" ] || podman rmi -f "$old" >/dev/null 2>&1 || true
    done
    find "$BAKED" -mindepth 1 -maxdepth 1 ! -name "$3.tar" ! -name "$3.containerd" -exec rm -rf {} +
    log "committed $2 to $image ($(du -h "$archive" | cut -f1)) and its store ($(du -sh "$store" | cut -f1))"
    echo "$archive"
    ;;
  has-baked)
    (($# == 2)) || die "usage: $0 has-baked IMAGE_NAME"
    podman image exists "$(baked_image "$2")" && [ -d "$(baked_store "$2")" ]
    ;;
  remove)
    shift
    for node in "$@"; do
      check_name "$node"
      remove_machine "$node"
      log "removed $node"
    done
    ;;
  status)
    podman ps -a --filter label=io.kube-atelier.sandbox=true --format '{{.Names}}\t{{.Status}}'
    ;;
  *) die "usage: $0 up|down|status|remove NODE..." ;;
esac
