#!/usr/bin/env bash
# The sandbox control plane: etcd, kube-apiserver, kube-controller-manager and
# kube-scheduler of the pinned release (built from Go modules by
# scripts/build-k8s-artifacts.sh) as local processes on 127.0.0.1.
#
# A stand-in for a cluster, not a cluster: discovery, OpenAPI validation,
# server-side apply, admission, RBAC, the aggregator (APIService) and the
# controllers are the real ones, but there are no nodes, so pods stay Pending
# and nothing behind a Service answers. Tests that need the API use it instead
# of a mock.
#
#   scripts/sandbox-apiserver.sh up              start (building binaries and certificates on first use)
#   scripts/sandbox-apiserver.sh down [--purge]  stop; --purge also deletes etcd's data and the certificates
#   scripts/sandbox-apiserver.sh status          exit 0 when the apiserver's /readyz answers
#   scripts/sandbox-apiserver.sh env             the export that points kubectl and clients at it
#
# Everything lives in $ATELIER_CACHE/sandbox-apiserver/ (or $SANDBOX_APISERVER_DIR):
# pki/ and the kubeconfigs (made once by kubeadm, keys 0600), etcd/ (data),
# run/ (logs, pids). The ports are fixed per SANDBOX_APISERVER_PORT_OFFSET (below).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=../tools/k8s-build/versions.env
. "$ATELIER_ROOT/tools/k8s-build/versions.env"

STATE=${SANDBOX_APISERVER_DIR:-$ATELIER_CACHE/sandbox-apiserver}
PKI=$STATE/pki
RUN=$STATE/run
KUBECONFIG_FILE=$STATE/admin.conf
# Not the defaults (2379/2380, 6443, 10257, 10259): a real etcd or a kubeadm
# node on this machine keeps its ports, and none of the sandbox cloud's
# (3306, 5000, 5672, 8774, 8778, 9292, 9696, 11211, 25672) is near.
HOST=127.0.0.1
# A second control plane beside the first (a developer's scenario while the
# suite runs): its own SANDBOX_APISERVER_DIR and SANDBOX_APISERVER_PORT_OFFSET
# (e.g. 100), added to every port.
OFFSET=${SANDBOX_APISERVER_PORT_OFFSET:-0}
[[ $OFFSET =~ ^[0-9]{1,3}$ ]] || die "SANDBOX_APISERVER_PORT_OFFSET='$OFFSET': a number from 0 to 999"
ETCD_PORT=$((23790 + OFFSET))
ETCD_PEER_PORT=$((23800 + OFFSET))
APISERVER_PORT=$((26443 + OFFSET))
CONTROLLER_MANAGER_PORT=$((26257 + OFFSET))
SCHEDULER_PORT=$((26259 + OFFSET))
SERVICE_CIDR=10.96.0.0/12
# kubeadm refuses a loopback advertiseAddress (it looks for a global address
# on lo instead). It only lands in certificate SANs and in the kubeconfigs of
# the controller-manager and scheduler, which are pointed back at 127.0.0.1:
# an RFC 5737 documentation address, which no network routes.
KUBEADM_ADVERTISE_ADDRESS=192.0.2.1
CLUSTER_NAME=sandbox-apiserver
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler)
BINARIES=("${COMPONENTS[@]}" kubectl kubeadm)
BUILD=$ATELIER_ROOT/scripts/build-k8s-artifacts.sh
BIN=$("$BUILD" --bin-dir)

# Microseconds, from bash's own clock (no subprocess): starts take seconds.
now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }
t0=$(now_us)
phase() {
  local us=$(($(now_us) - t0))
  log "[$((us / 1000000)).$((us / 100000 % 10))s] $*"
}

# The pid in run/<name>.pid, if that process is still the binary we started
# (a pid reused by something else after a reboot is not ours to signal).
running_pid() {
  local pid exe
  pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  # A rebuilt binary shows as "<path> (deleted)" while the old one runs.
  [[ $exe == "$BIN/$1"* ]] && echo "$pid"
}

listening() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

ready() {
  curl -fsS --max-time 2 --cacert "$PKI/ca.crt" "https://$HOST:$APISERVER_PORT/readyz" >/dev/null 2>&1
}

# kube-controller-manager and kube-scheduler serve /healthz without
# authentication, on a self-signed certificate of their own.
healthy() { curl -fsSk --max-time 2 "https://$HOST:$1/healthz" >/dev/null 2>&1; }

all_running() {
  local name
  for name in "${COMPONENTS[@]}"; do running_pid "$name" >/dev/null || return 1; done
}

ensure_binaries() {
  local name build=false
  # Verifying every sha256 (~400 MB) would cost a second or two on each start:
  # the build script checks them when something is missing. The folder is
  # keyed by the Kubernetes release only, so etcd's version is asked.
  for name in "${BINARIES[@]}"; do [ -x "$BIN/$name" ] || build=true; done
  $build || [[ $("$BIN/etcd" --version 2>/dev/null) == *"etcd Version: $ETCD_VERSION"* ]] || build=true
  if $build; then
    log "building ${BINARIES[*]} from Go modules (cold: minutes)"
    "$BUILD" "${BINARIES[@]}" >&2
  fi
}

# Through a dead proxy: anything kubeadm tried to fetch (a version label from
# dl.k8s.io) would fail at once instead of leaving the machine.
kubeadm() { HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY='' "$BIN/kubeadm" "$@"; }

kubeadm_config() {
  cat <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: $KUBEADM_ADVERTISE_ADDRESS
  bindPort: $APISERVER_PORT
nodeRegistration:
  name: $CLUSTER_NAME
  # Never contacted (no kubelet); set so kubeadm does not probe for a runtime.
  criSocket: unix:///run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v$KUBERNETES_VERSION
clusterName: $CLUSTER_NAME
controlPlaneEndpoint: $HOST:$APISERVER_PORT
certificatesDir: $PKI
networking:
  serviceSubnet: $SERVICE_CIDR
  dnsDomain: cluster.local
apiServer:
  certSANs: [localhost, $HOST]
EOF
}

# Certificates and kubeconfigs are made once, as kubeadm makes them for a real
# control plane. If the config above changes (ports, names), they and etcd's
# data (service-account tokens signed by the old key) no longer fit: start over.
ensure_pki() {
  local config stamp
  config=$(kubeadm_config)
  stamp=$(printf '%s' "$config" | sha256sum | cut -c1-16)
  if [ -f "$STATE/config.sha256" ] && [ "$(cat "$STATE/config.sha256")" = "$stamp" ] \
    && [ -f "$KUBECONFIG_FILE" ] && [ -f "$STATE/super-admin.conf" ]; then
    return 0
  fi
  if [ -e "$STATE/config.sha256" ]; then
    log "the sandbox's kubeadm config changed: new certificates and an empty etcd"
    rm -rf "$PKI" "$STATE/etcd" "$STATE"/*.conf
  fi
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  printf '%s\n' "$config" >"$STATE/kubeadm.yaml"
  kubeadm init phase certs all --config "$STATE/kubeadm.yaml" >"$RUN/kubeadm.log" 2>&1 \
    || die "kubeadm init phase certs failed: $(tail -n 5 "$RUN/kubeadm.log")"
  local conf
  for conf in admin super-admin controller-manager scheduler; do
    kubeadm init phase kubeconfig "$conf" \
      --config "$STATE/kubeadm.yaml" --kubeconfig-dir "$STATE" >>"$RUN/kubeadm.log" 2>&1 \
      || die "kubeadm init phase kubeconfig $conf failed: $(tail -n 5 "$RUN/kubeadm.log")"
  done
  for conf in controller-manager scheduler; do
    "$BIN/kubectl" --kubeconfig "$STATE/$conf.conf" config set-cluster "$CLUSTER_NAME" \
      --server="https://$HOST:$APISERVER_PORT" >/dev/null
  done
  # kubeadm writes keys and kubeconfigs 0600; the certificates may be read.
  find "$PKI" -name '*.key' -exec chmod 600 {} +
  chmod 600 "$STATE"/*.conf
  echo "$stamp" >"$STATE/config.sha256"
  phase "certificates and kubeconfigs made (kubeadm)"
}

# The command line of each component, as kubeadm's static pod manifests have
# it, on loopback ports. Leader election is off: with one instance of each, a
# lease left by a killed predecessor would hold the controllers back for 15 s.
component_args() {
  case $1 in
    etcd) ARGS=(
      --name="$CLUSTER_NAME" --data-dir="$STATE/etcd"
      --listen-client-urls="https://$HOST:$ETCD_PORT" --advertise-client-urls="https://$HOST:$ETCD_PORT"
      --listen-peer-urls="https://$HOST:$ETCD_PEER_PORT" --initial-advertise-peer-urls="https://$HOST:$ETCD_PEER_PORT"
      --initial-cluster="$CLUSTER_NAME=https://$HOST:$ETCD_PEER_PORT"
      --client-cert-auth=true --trusted-ca-file="$PKI/etcd/ca.crt"
      --cert-file="$PKI/etcd/server.crt" --key-file="$PKI/etcd/server.key"
      --peer-client-cert-auth=true --peer-trusted-ca-file="$PKI/etcd/ca.crt"
      --peer-cert-file="$PKI/etcd/peer.crt" --peer-key-file="$PKI/etcd/peer.key"
      --log-level=warn) ;;
    kube-apiserver) ARGS=(
      --advertise-address="$HOST" --bind-address="$HOST" --secure-port="$APISERVER_PORT"
      --allow-privileged=true --authorization-mode='Node,RBAC'
      --enable-admission-plugins=NodeRestriction --enable-bootstrap-token-auth=true
      --client-ca-file="$PKI/ca.crt"
      --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key"
      --etcd-servers="https://$HOST:$ETCD_PORT" --etcd-cafile="$PKI/etcd/ca.crt"
      --etcd-certfile="$PKI/apiserver-etcd-client.crt" --etcd-keyfile="$PKI/apiserver-etcd-client.key"
      --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt"
      --kubelet-client-key="$PKI/apiserver-kubelet-client.key"
      --kubelet-preferred-address-types='InternalIP,ExternalIP,Hostname'
      --service-account-issuer=https://kubernetes.default.svc.cluster.local
      --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key"
      --service-cluster-ip-range="$SERVICE_CIDR"
      --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key"
      --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client
      --requestheader-extra-headers-prefix=X-Remote-Extra- --requestheader-group-headers=X-Remote-Group
      --requestheader-username-headers=X-Remote-User
      # No kube-proxy here, so a Service's cluster IP leads nowhere: the
      # aggregator dials an APIService's endpoints directly, as metrics-server needs.
      --enable-aggregator-routing=true
      # The "kubernetes" Endpoints would list 127.0.0.1, which validation
      # refuses (loopback) every 10 s: nothing in the sandbox could dial it anyway.
      --endpoint-reconciler-type=none) ;;
    kube-controller-manager) ARGS=(
      --bind-address="$HOST" --secure-port="$CONTROLLER_MANAGER_PORT"
      --kubeconfig="$STATE/controller-manager.conf"
      --authentication-kubeconfig="$STATE/controller-manager.conf"
      --authorization-kubeconfig="$STATE/controller-manager.conf"
      --client-ca-file="$PKI/ca.crt" --requestheader-client-ca-file="$PKI/front-proxy-ca.crt"
      --cluster-name="$CLUSTER_NAME" --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key"
      --controllers='*,bootstrapsigner,tokencleaner' --use-service-account-credentials=true
      --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key"
      --service-cluster-ip-range="$SERVICE_CIDR" --leader-elect=false) ;;
    kube-scheduler) ARGS=(
      --bind-address="$HOST" --secure-port="$SCHEDULER_PORT"
      --kubeconfig="$STATE/scheduler.conf"
      --authentication-kubeconfig="$STATE/scheduler.conf" --authorization-kubeconfig="$STATE/scheduler.conf"
      --leader-elect=false) ;;
  esac
}

component_ports() {
  case $1 in
    etcd) echo "$ETCD_PORT $ETCD_PEER_PORT" ;;
    kube-apiserver) echo "$APISERVER_PORT" ;;
    kube-controller-manager) echo "$CONTROLLER_MANAGER_PORT" ;;
    kube-scheduler) echo "$SCHEDULER_PORT" ;;
  esac
}

# Detached in a session of its own (setsid), so the processes outlive this
# script and `down` stops each with one signal to its process group. setsid
# and nohup exec, so $! is the component's own pid.
start_component() {
  local name=$1 port
  for port in $(component_ports "$name"); do
    listening "$port" && die "$HOST:$port is taken by a process this script did not start ($name wants it): see ss -ltnp"
  done
  component_args "$name"
  setsid nohup "$BIN/$name" "${ARGS[@]}" >"$RUN/$name.log" 2>&1 </dev/null &
  local pid=$! _
  echo "$pid" >"$RUN/$name.pid"
  # Until setsid and nohup have exec'd the component, /proc/<pid>/exe is
  # theirs and running_pid would call it exited (seen on a loaded machine).
  for _ in $(seq 1 50); do
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$BIN/$name"* ]] && return 0
    [ -e "/proc/$pid/exe" ] || return 0 # gone: check_alive reports it with its log
    sleep 0.1
  done
}

check_alive() {
  local name
  for name in "${COMPONENTS[@]}"; do
    running_pid "$name" >/dev/null || die "$name exited: $(tail -n 15 "$RUN/$name.log")"
  done
}

wait_ready() {
  local deadline=$((SECONDS + ${SANDBOX_APISERVER_TIMEOUT:-180}))
  until ready && healthy "$CONTROLLER_MANAGER_PORT" && healthy "$SCHEDULER_PORT"; do
    check_alive
    ((SECONDS < deadline)) || die "not ready after ${SANDBOX_APISERVER_TIMEOUT:-180}s (logs in $RUN)"
    sleep 0.2
  done
}

kubectl_as() { "$BIN/kubectl" --kubeconfig "$STATE/$1.conf" "${@:2}"; }

# kubeadm's admin.conf is in the group kubeadm:cluster-admins, which
# `kubeadm init` binds to cluster-admin with super-admin.conf (system:masters)
# once the apiserver answers; the phases above do not, so it is done here.
bind_cluster_admins() {
  kubectl_as super-admin apply --server-side --field-manager=sandbox-apiserver -f - >/dev/null <<EOF \
    || die "could not bind the group kubeadm:cluster-admins to cluster-admin"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kubeadm:cluster-admins
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: Group
    name: kubeadm:cluster-admins
EOF
}

# Pods are refused until the service-account controller has made the
# namespace's "default" ServiceAccount: wait for it, then the controllers run.
wait_default_service_account() {
  local deadline=$((SECONDS + 60))
  until kubectl_as admin get serviceaccount default -n default >/dev/null 2>&1; do
    check_alive
    ((SECONDS < deadline)) || die "no default ServiceAccount after 60s: is kube-controller-manager working? ($RUN/kube-controller-manager.log)"
    sleep 0.3
  done
}

# wait_settled: in its first seconds the controller-manager makes its
# controllers' ServiceAccounts and each namespace's kube-root-ca.crt; a
# snapshot of the cluster taken then (the lab scenarios compare one with the
# cluster after their Reset) would miss some. Waits until two listings 2 s
# apart are the same.
wait_settled() {
  local deadline=$((SECONDS + 60)) listed previous=""
  while :; do
    listed=$(kubectl_as admin get serviceaccounts,configmaps,secrets,roles,rolebindings \
      --all-namespaces --output name 2>/dev/null | sort | sha256sum)
    [ "$listed" = "$previous" ] && return 0
    check_alive
    ((SECONDS < deadline)) || die "the controllers still made objects after 60s ($RUN/kube-controller-manager.log)"
    previous=$listed
    sleep 2
  done
}

usage_hint() {
  log "use it with: eval \"\$($0 env)\"   (or KUBECONFIG=$KUBECONFIG_FILE); kubectl: $BIN/kubectl"
  log "apiserver https://$HOST:$APISERVER_PORT, etcd https://$HOST:$ETCD_PORT; no nodes: pods stay Pending"
}

cmd_up() {
  local name started=()
  if all_running && ready; then
    log "sandbox apiserver already up"
    usage_hint
    return 0
  fi
  command -v curl >/dev/null || die "curl is needed (apt-get install -y curl)"
  mkdir -p "$RUN"
  ensure_binaries
  ensure_pki
  # All four at once: the apiserver retries etcd, the others retry the
  # apiserver, and the start is as long as the slowest instead of the sum.
  for name in "${COMPONENTS[@]}"; do
    if ! running_pid "$name" >/dev/null; then
      start_component "$name"
      started+=("$name")
    fi
  done
  phase "started ${started[*]}"
  wait_ready
  phase "apiserver /readyz, controller-manager and scheduler /healthz answer"
  bind_cluster_admins
  wait_default_service_account
  wait_settled
  phase "sandbox apiserver ready (controllers running, their first objects made)"
  usage_hint
}

stop_component() {
  local name=$1 pid i
  pid=$(running_pid "$name") || { rm -f "$RUN/$name.pid"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  if [ -d "/proc/$pid" ]; then
    log "$name did not stop in 10s: killing it"
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}

cmd_down() {
  local purge=false
  case ${1:-} in
    --purge) purge=true ;;
    '') ;;
    *) die "usage: $0 down [--purge]" ;;
  esac
  # etcd last, so the apiserver can finish its writes.
  stop_component kube-controller-manager &
  stop_component kube-scheduler &
  stop_component kube-apiserver &
  wait
  stop_component etcd
  if $purge; then
    rm -rf "$STATE"
    log "sandbox apiserver stopped; data and certificates deleted"
  else
    log "sandbox apiserver stopped (data kept in $STATE; down --purge deletes it)"
  fi
}

cmd_status() {
  local name pid rc=0
  for name in "${COMPONENTS[@]}"; do
    if pid=$(running_pid "$name"); then echo "$name: running (pid $pid)"; else echo "$name: stopped"; fi
  done
  if [ -f "$PKI/ca.crt" ] && ready; then
    echo "apiserver: ready (https://$HOST:$APISERVER_PORT/readyz)"
  else
    echo "apiserver: not ready"
    rc=1
  fi
  return $rc
}

case ${1:-} in
  up) cmd_up ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  env) printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_FILE" ;;
  *) die "usage: $0 up | down [--purge] | status | env" ;;
esac
