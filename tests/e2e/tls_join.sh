#!/usr/bin/env bash
# A master serving TLS and two workers joining it by bootstrap token and CA pin, as `kubeadm join`
# does, each node in its own network namespace with its own agent (lib.sh). The master's PKI comes
# from tests/helpers/make-pki; the agent issues its components' identities and publishes
# cluster-info and the token; the workers discover the cluster, their kubelets bootstrap their own
# certificates through the CSR API, and real kubectl lists every node Ready over TLS.
# Faults: a wrong pin (refused, nothing past the network half), a wrong token (401, retried, no
# crash), the CA replaced on the master (reported by the workers with what to do).
#
# The v1.23 profile: the newest whose kubelet speaks to dockerd itself. From v1.24 the kubelet
# needs cri-dockerd, which this machine does not have, and the kubelet stand-in runs no pods over
# CRI, so a v1.24+ master could not run its control plane here (docs/joining.md).
# Usage: tls_join.sh AGENT IMAGES_DIR
KNA_AGENT=$1
KNA_IMAGES=$2
. "$(dirname "$0")/../integration/agent/lib.sh"
skip_unless_root
command -v kubectl >/dev/null || { echo "FAIL: kubectl is not installed (scripts/install-deps --runtime)"; exit 1; }
trap cleanup EXIT

MASTER=10.9.0.1
VERSION=v1.23.17
TOKEN=abcdef.0123456789abcdef
MAKE_PKI="$(cd "$(dirname "$0")/../helpers" && pwd)/make-pki"
kube=", \"kubelet\": {\"image\": \"$KNA_KUBE_IMAGE\", \"privileged\": $KNA_PRIVILEGED, \"probe\": {\"period_ms\": 2000}, \"env\": {\"KNA_STANDIN_VERSION\": \"$VERSION\"}}"
kube+=", \"kube-proxy\": {\"image\": \"$KNA_KUBE_IMAGE\", \"privileged\": $KNA_PRIVILEGED, \"env\": {\"KNA_STANDIN_VERSION\": \"$VERSION\"}}"

make_hub
"$MAKE_PKI" "$KNA_T/pki" --ip "$MASTER" >/dev/null || { echo "FAIL: make-pki"; exit 1; }
PIN=$(cat "$KNA_T/pki/ca.pin")
WRONG_PIN="sha256:$(printf '0%.0s' {1..64})"

declare -A NS CFG DIR AGENT
for node in master:$MASTER w1:10.9.0.2 w2:10.9.0.3; do
  name=${node%%:*} addr=${node#*:}
  make_node "$name" "$addr"
  role=worker
  [ "$name" = master ] && role=master
  node_config "$name" "$role" "$MASTER" "$kube"
  NS[$name]=$NODE_NS CFG[$name]=$NODE_CFG DIR[$name]=$(dirname "$NODE_CFG")
  # $3: the cluster.* object of this node
  set_cluster() {
    jq --arg v "$VERSION" --argjson c "$3" '.k8s_version = $v | .cluster = $c' "$2" >"$2.new" &&
      mv "$2.new" "$2"
  }
done
set_cluster master "${CFG[master]}" "{\"token\": \"$TOKEN\"}"
jq --arg pki "$KNA_T/pki" '.control_plane.pki_dir = $pki' "${CFG[master]}" >"${CFG[master]}.new"
mv "${CFG[master]}.new" "${CFG[master]}"
set_cluster w1 "${CFG[w1]}" "{\"token\": \"$TOKEN\", \"ca_cert_hash\": \"$PIN\"}"
# w2 starts with a wrong pin, then a wrong token, then the right ones.
set_cluster w2 "${CFG[w2]}" "{\"token\": \"$TOKEN\", \"ca_cert_hash\": \"$WRONG_PIN\"}"

kc() { in_node "${NS[master]}" env HOME="$KNA_T" kubectl --kubeconfig "${DIR[master]}/state/admin.conf" "$@"; }
ready_nodes() { kc get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l; }
error_of() { stage_field "$1" "$2" last_error; }
error_has() { [[ "$(error_of "$1" "$2")" == *"$3"* ]]; }

start_agent "${NS[master]}" "${CFG[master]}"
AGENT[master]=$AGENT_PID
wait_for 180 "the master's stages are all ready (its node Ready over TLS, the join info published)" \
  all_ready "${CFG[master]}" || { finish; exit 1; }

# --- the master as kubeadm init leaves one
check "the master's admin.conf is mode 0600" test "$(stat -c %a "${DIR[master]}/state/admin.conf")" = 600
check "kubectl over TLS with admin.conf lists the master Ready" \
  test "$(kc get node master --no-headers | awk '{print $2}')" = Ready
no_plain_http() { ! in_node "${NS[master]}" curl -sf --max-time 3 "http://$MASTER:8080/healthz"; }
check "the API server does not answer plain http on 8080" no_plain_http
check "cluster-info is readable without credentials and names the master" \
  in_node "${NS[master]}" sh -c "curl -sk https://$MASTER:6443/api/v1/namespaces/kube-public/configmaps/cluster-info | grep -q 'https://$MASTER:6443'"
check "the join token's Secret is published" kc -n kube-system get secret bootstrap-token-abcdef
check "kubeadm's bootstrap binding is published" kc get clusterrolebinding kubeadm:kubelet-bootstrap
for id in controller-manager scheduler kube-proxy admin; do
  check "the master issued $id's certificate from its CA" \
    openssl verify -CAfile "$KNA_T/pki/ca.crt" "${DIR[master]}/state/control-plane/$id.pem"
done
check "the master's kubelet runs as system:node:master" \
  sh -c "openssl x509 -noout -subject -in '${DIR[master]}/kubelet/pki/kubelet-client-current.pem' | grep -q 'CN = system:node:master'"

# --- w1 joins by token and pin; w2's wrong pin is refused
for w in w1 w2; do
  start_agent "${NS[$w]}" "${CFG[$w]}"
  AGENT[$w]=$AGENT_PID
done
wait_for 180 "w1: every stage ready (discovered, bootstrapped, Ready)" all_ready "${CFG[w1]}"
check "w1: the bootstrap kubeconfig is mode 0600" \
  test "$(stat -c %a "${DIR[w1]}/state/bootstrap-kubeconfig")" = 600
check "w1: the kubelet got its own certificate, signed by the cluster CA" \
  openssl verify -CAfile "$KNA_T/pki/ca.crt" "${DIR[w1]}/kubelet/pki/kubelet-client-current.pem"
csr_issued() { kc get csr --no-headers | grep 'system:bootstrap:abcdef' | grep -q 'Approved,Issued'; }
check "w1: its CSR was approved and issued" csr_issued
wait_for 60 "w2 refuses the master's CA for its pin" \
  error_has "${CFG[w2]}" kubelet "does not match ca_cert_hash $WRONG_PIN"
check "w2: nothing past the network half started (kube-proxy waits for the kubelet)" \
  stage_is "${CFG[w2]}" kube-proxy waiting
check "w2: its network half is ready" stage_is "${CFG[w2]}" main-docker ready
check "w2: no CA was written for the wrong pin" test ! -e "${DIR[w2]}/state/cluster-ca.crt"
check "w2 is not in the cluster" test -z "$(kc get node w2 --no-headers 2>/dev/null)"

# --- w2 with the right pin and a wrong secret: refused (cluster-info's signature for the token id
# does not verify with it, as kubeadm join finds), retried with backoff, the agent keeps running
stop_agent "${AGENT[w2]}"
set_cluster w2 "${CFG[w2]}" "{\"token\": \"abcdef.ffffffffffffffff\", \"ca_cert_hash\": \"$PIN\"}"
start_agent "${NS[w2]}" "${CFG[w2]}"
AGENT[w2]=$AGENT_PID
wait_for 60 "w2 reports the refused token" \
  error_has "${CFG[w2]}" kubelet "the API server refused the join token: cluster-info's signature for token id abcdef does not match"
r=$(stage_field "${CFG[w2]}" kubelet restarts)
retried() { [ "$(stage_field "${CFG[w2]}" kubelet restarts)" -gt "$r" ]; }
wait_for 60 "w2: the join is retried with backoff (after $r attempts)" retried
check "w2: the agent is still running" kill -0 "${AGENT[w2]}"
secret_not_logged() { ! grep -q ffffffffffffffff "${DIR[w2]}/agent.log"; }
check "w2: the token's secret is in no log line" secret_not_logged

# --- w2 with the right token joins
stop_agent "${AGENT[w2]}"
set_cluster w2 "${CFG[w2]}" "{\"token\": \"$TOKEN\", \"ca_cert_hash\": \"$PIN\"}"
start_agent "${NS[w2]}" "${CFG[w2]}"
AGENT[w2]=$AGENT_PID
wait_for 180 "w2: every stage ready" all_ready "${CFG[w2]}"
wait_for 60 "kubectl over TLS shows three nodes Ready" test "$(ready_nodes)" -eq 3
kc get nodes
check "kubectl lists exactly master, w1, w2, on $VERSION" \
  test "$(kc get nodes --no-headers | awk '{print $1 "=" $5}' | sort | tr '\n' ' ')" = "master=$VERSION w1=$VERSION w2=$VERSION "

# --- the master's CA replaced: the workers say so, and what to do
"$MAKE_PKI" "$KNA_T/pki-new" --ip "$MASTER" >/dev/null || fail "make-pki for the new CA"
cp "$KNA_T/pki-new"/* "$KNA_T/pki/"
apiserver=$(docker -H "unix://${DIR[master]}/main/docker.sock" ps -q --filter label=io.kubernetes.container.name=kube-apiserver)
docker -H "unix://${DIR[master]}/main/docker.sock" kill "$apiserver" >/dev/null
wait_for 150 "w1 reports that the API server's certificate does not verify and what to do" \
  error_has "${CFG[w1]}" kubelet "if the cluster's CA was replaced, give the node the new one"
log "w1 kubelet: $(error_of "${CFG[w1]}" kubelet)"
check "w1: the agent is still running" kill -0 "${AGENT[w1]}"

check "every agent exits 0 on SIGTERM" stop_agents
for n in master w1 w2; do
  check "$n: no dockerd left" no_process_matching "dockerd.*${DIR[$n]}"
done
finish
