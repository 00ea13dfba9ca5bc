#!/usr/bin/env bash
# start.sh DIR: starts a throwaway Kubernetes control plane (etcd,
# kube-apiserver, kube-controller-manager) as local processes for the e2e
# tests, with all state, credentials and logs in DIR. Returns once the API
# server is ready and leaves the processes running; stop them with stop.sh DIR.
# The layout of DIR is described in README.md next to this script.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
READY_TIMEOUT=${CP_READY_TIMEOUT:-120}

log() { printf '[controlplane] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $# -eq 1 && -n $1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
DIR=$(cd "$1" && pwd -P)
START=$SECONDS

# True if PID is alive and is a process started for this DIR (every process we
# start names a file under DIR in its arguments). Same test as stop.sh.
ours() {
  local pid=$1 a
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  while IFS= read -r -d '' a; do
    [[ $a == "$DIR/"* || $a == *"=$DIR/"* ]] && return 0
  done < "/proc/$pid/cmdline"
  return 1
}

if [[ -f $DIR/pids ]]; then
  while read -r pid; do
    if ours "$pid"; then
      die "a control plane for $DIR is still running (pid $pid); run stop.sh $DIR first"
    fi
  done < "$DIR/pids"
fi
# Start from a clean slate: remove what a previous run in DIR left behind.
rm -rf "$DIR/etcd-data" "$DIR/pki" "$DIR/pids" "$DIR/env.sh" "$DIR/env.json" \
  "$DIR"/*.kubeconfig "$DIR"/*.log "$DIR"/.*.pid

# From here on, a failure stops whatever was started.
ok=0
on_exit() {
  if [[ $ok != 1 ]]; then
    log "start failed; stopping the processes started so far"
    "$HERE/stop.sh" "$DIR" || true
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# --- binaries ---------------------------------------------------------------
log "locating binaries (a cold build takes many minutes; cached afterwards)"
"$HERE/build.sh" etcd kubernetes >/dev/null
paths=$("$HERE/build.sh" paths)
ETCD_DIR=$(sed -n 's/^etcd=//p' <<<"$paths")
K8S_DIR=$(sed -n 's/^kubernetes=//p' <<<"$paths")
HELM_DIR=$(sed -n 's/^helm=//p' <<<"$paths")
for b in "$ETCD_DIR/etcd" "$K8S_DIR/kube-apiserver" "$K8S_DIR/kube-controller-manager" "$K8S_DIR/kubectl"; do
  [[ -x $b ]] || die "missing binary $b"
done
if [[ ! -x $HELM_DIR/helm ]]; then
  # Not needed to start; build it detached so it is ready when a test wants it.
  # build.sh serialises concurrent builds of the same component with a lock.
  log "helm: not built yet; building it in the background (log: $DIR/helm-build.log)"
  setsid "$HERE/build.sh" helm >"$DIR/helm-build.log" 2>&1 </dev/null &
fi

# --- helpers ----------------------------------------------------------------
# spawn NAME CMD...: start CMD detached (own session, stdio to DIR/NAME.log,
# nothing inherited from our stdout/stderr so callers reading our output see
# EOF), record its PID in DIR/pids, and set PID_<NAME>.
spawn() {
  local name=$1; shift
  local pf="$DIR/.$name.pid" i pid
  setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pf" "$@" >"$DIR/$name.log" 2>&1 </dev/null &
  for i in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
  [[ -s $pf ]] || die "could not start $name"
  pid=$(<"$pf"); rm -f "$pf"
  echo "$pid" >> "$DIR/pids"
  printf -v "PID_${name//-/_}" '%s' "$pid"
  log "$name: started, pid $pid, log $DIR/$name.log"
}

# alive PID: the process runs and is not a zombie. (Not `ours`: while a
# spawned process execs, its /proc cmdline can read empty for an instant.)
alive() {
  local state
  state=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

fail_with_log() {
  local name=$1 msg=$2
  log "$msg; last lines of $DIR/$name.log:"
  tail -n 40 "$DIR/$name.log" | sed 's/^/    /' >&2 || true
  if [[ $name == kube-apiserver ]]; then
    log "failing /readyz checks:"
    api_get '/readyz?verbose' 2>&1 | grep -v '^\[+\]' | sed 's/^/    /' >&2 || true
  fi
  exit 1
}

# wait_for NAME PID TIMEOUT CHECK...: poll CHECK until it succeeds, reporting
# progress every 5s; fail (with the log tail) if NAME dies or times out.
wait_for() {
  local name=$1 pid=$2 timeout=$3; shift 3
  local t0=$SECONDS next=5
  until "$@" >/dev/null 2>&1; do
    alive "$pid" || fail_with_log "$name" "$name exited"
    if (( SECONDS - t0 >= timeout )); then
      fail_with_log "$name" "$name not ready after ${timeout}s"
    fi
    if (( SECONDS - t0 >= next )); then
      log "$name: waiting ($((SECONDS - t0))s)"; next=$((next + 5))
    fi
    sleep 0.2
  done
  log "$name: ready after $((SECONDS - t0))s"
}

# --- ports ------------------------------------------------------------------
read -r ETCD_PORT PEER_PORT API_PORT KCM_PORT < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
API_URL="https://127.0.0.1:$API_PORT"
ETCD_URL="http://127.0.0.1:$ETCD_PORT"

# --- etcd -------------------------------------------------------------------
spawn etcd "$ETCD_DIR/etcd" --name=tfcmcp --data-dir="$DIR/etcd-data" \
  --listen-client-urls="$ETCD_URL" --advertise-client-urls="$ETCD_URL" \
  --listen-peer-urls="http://127.0.0.1:$PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$PEER_PORT" \
  --initial-cluster="tfcmcp=http://127.0.0.1:$PEER_PORT" \
  --unsafe-no-fsync=true

# --- certificates and credentials (while etcd starts) -------------------------
PKI="$DIR/pki"
mkdir -p "$PKI"; chmod 700 "$PKI"
(
  umask 077; cd "$PKI"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
  openssl pkey -in sa.key -pubout -out sa.pub
  cat > openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = tfc-mcp-e2e-ca
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
CNF
  openssl req -x509 -new -nodes -config openssl.cnf -extensions ca -days 3650 \
    -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -new -nodes -config openssl.cnf -subj /CN=kube-apiserver \
    -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout apiserver.key -out apiserver.csr 2>/dev/null
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
    -days 3650 -extfile openssl.cnf -extensions server -out apiserver.crt 2>/dev/null
  rm -f apiserver.csr
)

ADMIN_TOKEN=$(openssl rand -hex 24)
KCM_TOKEN=$(openssl rand -hex 24)
OPERATOR_TOKEN=$(openssl rand -hex 24)
GATEWAY_TOKEN=$(openssl rand -hex 24)
SA_GROUPS="system:serviceaccounts,system:serviceaccounts:tfc-mcp-system,system:authenticated"
(
  umask 077
  cat > "$PKI/tokens.csv" <<CSV
$ADMIN_TOKEN,admin,admin,"system:masters"
$KCM_TOKEN,system:kube-controller-manager,kube-controller-manager,"system:masters"
$OPERATOR_TOKEN,system:serviceaccount:tfc-mcp-system:tfc-mcp-operator,tfc-mcp-operator,"$SA_GROUPS"
$GATEWAY_TOKEN,system:serviceaccount:tfc-mcp-system:tfc-mcp-gateway,tfc-mcp-gateway,"$SA_GROUPS"
CSV
)

CA_DATA=$(base64 -w0 < "$PKI/ca.crt")
write_kubeconfig() { # NAME USER TOKEN
  (
    umask 077
    cat > "$DIR/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: tfc-mcp-e2e
  cluster:
    server: $API_URL
    certificate-authority-data: $CA_DATA
users:
- name: $2
  user:
    token: $3
contexts:
- name: $1
  context:
    cluster: tfc-mcp-e2e
    user: $2
current-context: $1
KC
  )
}
write_kubeconfig admin admin "$ADMIN_TOKEN"
write_kubeconfig operator system:serviceaccount:tfc-mcp-system:tfc-mcp-operator "$OPERATOR_TOKEN"
write_kubeconfig gateway system:serviceaccount:tfc-mcp-system:tfc-mcp-gateway "$GATEWAY_TOKEN"
write_kubeconfig kube-controller-manager system:kube-controller-manager "$KCM_TOKEN"
unset ADMIN_TOKEN KCM_TOKEN OPERATOR_TOKEN GATEWAY_TOKEN

wait_for etcd "$PID_etcd" 30 curl -fsS "$ETCD_URL/health"

# --- kube-apiserver -----------------------------------------------------------
spawn kube-apiserver "$K8S_DIR/kube-apiserver" \
  --etcd-servers="$ETCD_URL" \
  --bind-address=127.0.0.1 --secure-port="$API_PORT" \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --cert-dir="$PKI/apiserver-generated" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  --token-auth-file="$PKI/tokens.csv" \
  --authorization-mode=RBAC \
  --disable-admission-plugins=ServiceAccount

# GET PATH as admin (token fed to curl on stdin so it does not show up in ps).
api_get() {
  local tok
  tok=$(sed -n 's/^\([^,]*\),admin,.*/\1/p' "$PKI/tokens.csv")
  printf 'header = "Authorization: Bearer %s"\n' "$tok" |
    curl -sS --max-time 5 -K - --cacert "$PKI/ca.crt" "$API_URL$1"
}
api_ready() { [[ $(api_get /readyz) == ok ]]; }
wait_for kube-apiserver "$PID_kube_apiserver" "$READY_TIMEOUT" api_ready

# --- kube-controller-manager --------------------------------------------------
# It runs as user system:kube-controller-manager in group system:masters: with
# --use-service-account-credentials=false every controller uses this identity,
# and the bootstrap ClusterRole system:kube-controller-manager alone does not
# let the garbage collector or the namespace controller delete arbitrary objects.
KCM_KC="$DIR/kube-controller-manager.kubeconfig"
spawn kube-controller-manager "$K8S_DIR/kube-controller-manager" \
  --kubeconfig="$KCM_KC" \
  --authentication-kubeconfig="$KCM_KC" --authorization-kubeconfig="$KCM_KC" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
  --cert-dir="$PKI/kcm-generated" \
  --leader-elect=false --controllers='*' \
  --use-service-account-credentials=false \
  --service-account-private-key-file="$PKI/sa.key" \
  --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key"

# Healthy, and its controllers are talking to the API server (the root CA
# publisher has filled in kube-root-ca.crt in the default namespace).
kcm_ready() {
  curl -fsSk "https://127.0.0.1:$KCM_PORT/healthz" | grep -qx ok &&
    "$K8S_DIR/kubectl" --kubeconfig="$DIR/admin.kubeconfig" -n default get configmap kube-root-ca.crt -o name
}
wait_for kube-controller-manager "$PID_kube_controller_manager" 60 kcm_ready

# --- env ----------------------------------------------------------------------
cat > "$DIR/env.sh" <<ENV
# Written by e2e/controlplane/start.sh; source it. Paths and URLs only (the
# credentials are in the kubeconfig files).
export CP_DIR='$DIR'
export CP_BIN='$K8S_DIR'
export CP_KUBECTL='$K8S_DIR/kubectl'
export CP_HELM='$HELM_DIR/helm'
export KUBECONFIG='$DIR/admin.kubeconfig'
export ADMIN_KUBECONFIG='$DIR/admin.kubeconfig'
export OPERATOR_KUBECONFIG='$DIR/operator.kubeconfig'
export GATEWAY_KUBECONFIG='$DIR/gateway.kubeconfig'
export API_SERVER_URL='$API_URL'
export CP_CA_FILE='$PKI/ca.crt'
export ETCD_URL='$ETCD_URL'
ENV
python3 - "$DIR/env.sh" "$DIR/env.json" <<'PY'
import json, re, sys
env = dict(re.findall(r"^export (\w+)='([^']*)'$", open(sys.argv[1]).read(), re.M))
json.dump(env, open(sys.argv[2], "w"), indent=2)
PY

ok=1
log "started in $((SECONDS - START))s; env: $DIR/env.sh"
log "ready: $API_URL (kubeconfig $DIR/admin.kubeconfig)"
