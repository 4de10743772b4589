# The federation test harness, sourced by scripts/test-federation: strikecd nodes (minsk,
# gomel, brest) in network namespaces on a bridge (10.77.0.1-3), joined by the real
# Debian NNCP (a daemon, a caller and `nncp-toss -seen -cycle 1` per node; neighbours only
# through the hub, gomel) or the real Debian Syncthing, each with its own strikecd
# daemon (state, spool, socket, configuration with node, peers and inboxes).
#
# One run = one `fed_init` in a subshell: its namespaces are named sc<PID>-NODE, its files
# live in one directory under /tmp, and every process it starts is recorded by PID.
# fed_cleanup (an EXIT trap, so also when a step fails) kills exactly those PIDs and
# whatever still runs inside the run's own namespaces, deletes the namespaces and the
# directory. Waiting is always on a condition with a deadline (fed_wait).
#
# Needs root, iproute2, nncp, syncthing, curl and python3 (scripts/setup installs them),
# and the built strikecd and strikectl in $STRIKECD_BIN.

declare -gA FED_IP=([minsk]=10.77.0.1 [gomel]=10.77.0.2 [brest]=10.77.0.3)
FED_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FED_SEND="$FED_LIB_DIR/../../systemd/strikecd-nncp-send"

fed_log() { echo "test-federation: ${FED_STEP:+$FED_STEP: }$*" >&2; }
fed_fail() { fed_log "FAIL: $*"; exit 1; }

# A run: a directory, a name for its namespaces, the list of its PIDs, the cleanup trap.
fed_init() {
    FED_SHELL="$BASHPID"
    FED_RUN="sc$BASHPID"
    FED_DIR="$(mktemp -d /tmp/strikecd-fed.XXXXXX)"
    FED_NODES=()
    : > "$FED_DIR/pids"
    echo "$FED_RUN" > "$FED_DIR/run"
    # For the caller's check that every run left nothing (scripts/test-federation).
    [ -z "${FED_RUNS:-}" ] || echo "$FED_RUN $FED_DIR" >> "$FED_RUNS"
    trap fed_cleanup EXIT
}

fed_cleanup() {
    local status=$? pid ns
    set +e
    # bash reports each killed job ("Killed ip netns exec ...") as it reaps it: noise.
    exec 2> /dev/null
    if [ "$status" -ne 0 ] && [ -n "${FED_KEEP_LOGS:-}" ]; then
        cp -a "$FED_DIR" "$FED_KEEP_LOGS/$FED_RUN" 2>/dev/null
        fed_log "logs kept in $FED_KEEP_LOGS/$FED_RUN"
    fi
    while read -r pid; do
        fed_is_child "$pid" && kill -9 "$pid"
    done < "$FED_DIR/pids"
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^$FED_RUN-" || true); do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    done
    wait 2>/dev/null
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^$FED_RUN-" || true); do
        ip netns del "$ns"
    done
    rm -rf "$FED_DIR"
    return "$status"
}

# Whether PID is still a child of the run's shell: a recorded PID whose process has died
# and been reaped may belong to someone else by now, and is left alone.
fed_is_child() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [ "$(cut -d' ' -f2 <<<"$stat")" = "$FED_SHELL" ]
}

# fed_spawn NODE NAME CMD...: CMD in NODE's namespace, in the background, output in
# NODE/NAME.log, its PID recorded (ip netns exec execs CMD, so $! is CMD's PID).
fed_spawn() {
    local node="$1" name="$2"
    shift 2
    ip netns exec "$FED_RUN-$node" "$@" > "$FED_DIR/$node/$name.log" 2>&1 < /dev/null &
    echo "$!" >> "$FED_DIR/pids"
    echo "$!" > "$FED_DIR/$node/$name.pid"
}

# fed_wait SECONDS WHAT CMD...: until CMD succeeds, polling every 0.2 s, else fail.
fed_wait() {
    local seconds="$1" what="$2"
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || fed_fail "waited ${seconds}s for $what"
        sleep 0.2
    done
}

# --- the network ---------------------------------------------------------------------

# fed_network NODE...: one bridge in its own namespace, one namespace per node with a
# veth on the bridge and its address from FED_IP.
fed_network() {
    local node sw="$FED_RUN-sw"
    ip netns add "$sw"
    ip -n "$sw" link add br0 type bridge
    ip -n "$sw" link set br0 up
    for node in "$@"; do
        FED_NODES+=("$node")
        mkdir -p "$FED_DIR/$node"
        ip netns add "$FED_RUN-$node"
        ip -n "$FED_RUN-$node" link set lo up
        ip link add "v-$node" netns "$FED_RUN-$node" type veth peer name "p-$node" netns "$sw"
        ip -n "$sw" link set "p-$node" master br0 up
        ip -n "$FED_RUN-$node" addr add "${FED_IP[$node]}/24" dev "v-$node"
        ip -n "$FED_RUN-$node" link set "v-$node" up
    done
}

fed_link() { ip -n "$FED_RUN-$1" link set "v-$1" "$2"; }

# --- keys and messages ---------------------------------------------------------------

# fed_origins ORIGIN...: a signing key per origin; the public halves form the keyring
# every node uses.
fed_origins() {
    local origin
    mkdir -p "$FED_DIR/keyring"
    install -d -m 0700 "$FED_DIR/secret"
    for origin in "$@"; do
        "$STRIKECD_BIN/strikectl" keygen "$origin" --key-dir "$FED_DIR/secret" > /dev/null 2>&1 \
            || fed_fail "strikectl keygen $origin"
        cp "$FED_DIR/secret/$origin.pub" "$FED_DIR/keyring/"
    done
}

# fed_strike ORIGIN SEQ WORKPLACE PARTICIPANTS: an unsigned strike report, one line.
fed_strike() {
    printf '{"v":1,"origin":"%s","seq":%d,"sent_at":"2020-08-24T09:%02d:00+03:00","type":"strike.reported","data":{"workplace":"%s","status":"strike","participants":%d}}\n' \
        "$1" "$2" "$(($2 % 60))" "$3" "$4"
}

# fed_drop NODE NAME < messages: signed by their origins, then dropped into NODE's
# spool the atomic way (tmp/, then a rename into incoming/).
fed_drop() {
    local node="$1" name="$2" tmp="$FED_DIR/$1/spool/tmp/$2"
    cat > "$tmp"
    "$STRIKECD_BIN/strikectl" sign --key-dir "$FED_DIR/secret" --state "$FED_DIR/seq-state" "$tmp" >> "$FED_DIR/sign.log" 2>&1 \
        || fed_fail "strikectl sign $name"
    mv "$tmp" "$FED_DIR/$node/spool/incoming/$name"
}

# --- NNCP ----------------------------------------------------------------------------

# fed_nncp_keys NODE: a fresh NNCP identity (nncp-cfgnew), dumped one field per file.
fed_nncp_keys() {
    local d="$FED_DIR/$1/nncp"
    mkdir -p "$d/spool"
    nncp-cfgnew -nocomments > "$d/new.hjson"
    nncp-cfgdir -cfg "$d/new.hjson" -dump "$d/keys"
}

# fed_nncp_config NODE NEIGHBOUR...: NODE's nncp.hjson: its own keys, its spool and log,
# and for each neighbour its public keys, its address, a call every second while packets
# wait for it (nncp-caller), and the exec handler `strikecd` that runs `strikecd import`.
fed_nncp_config() {
    local node="$1"
    shift
    python3 - "$FED_DIR" "$node" "$STRIKECD_BIN/strikecd" "$@" <<'PY' > "$FED_DIR/$node/nncp/nncp.hjson"
import json, os, sys
root, node, strikecd, neighbours = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
ips = {"minsk": "10.77.0.1", "gomel": "10.77.0.2", "brest": "10.77.0.3"}
def field(n, *path):
    with open(os.path.join(root, n, "nncp", "keys", *path)) as f:
        return f.read().strip()
public = ["id", "exchpub", "signpub", "noisepub"]
self_keys = {k: field(node, "self", k) for k in public + ["exchprv", "signprv", "noiseprv"]}
neigh = {"self": {k: field(node, "self", k) for k in public}}
for n in neighbours:
    neigh[n] = {k: field(n, "self", k) for k in public}
    neigh[n]["addrs"] = {"lan": "%s:5400" % ips[n]}
    neigh[n]["calls"] = [{"cron": "*/1 * * * * * *", "when-tx-exists": True, "onlinedeadline": 2}]
    neigh[n]["exec"] = {"strikecd": [strikecd, "import", "--config", os.path.join(root, node, "strikecd.yaml")]}
config = {"spool": os.path.join(root, node, "nncp", "spool"),
          "log": os.path.join(root, node, "nncp", "log"),
          "self": self_keys, "neigh": neigh}
print(json.dumps(config, indent=2))
PY
}

# fed_nncp_id NODE: NODE's NNCP node id, which NNCP passes as NNCP_SENDER of its packets
# (strikecd.yaml's nncp_id for a peer).
fed_nncp_id() { cat "$FED_DIR/$1/nncp/keys/self/id"; }

# fed_nncp_start NODE: nncp-daemon (answers calls), nncp-caller (calls neighbours while
# packets wait for them) and nncp-toss -seen -cycle 1 (runs the exec handler; -seen makes
# a replayed packet "already seen").
fed_nncp_start() {
    local node="$1" cfg="$FED_DIR/$1/nncp/nncp.hjson"
    fed_spawn "$node" nncp-daemon nncp-daemon -cfg "$cfg" -bind "${FED_IP[$node]}:5400" -noprogress
    fed_spawn "$node" nncp-caller nncp-caller -cfg "$cfg" -noprogress
    fed_spawn "$node" nncp-toss nncp-toss -cfg "$cfg" -noprogress -seen -cycle 1
}

# fed_nncp NODE COMMAND ARG...: an NNCP command in NODE's namespace with NODE's configuration.
fed_nncp() {
    local node="$1" command="$2"
    shift 2
    ip netns exec "$FED_RUN-$node" "$command" -cfg "$FED_DIR/$node/nncp/nncp.hjson" "$@"
}

# Packets waiting in NODE's NNCP spool for PEER (nncp-stat's count; 0 when none).
fed_nncp_waiting() {
    local node="$1" peer="$2"
    fed_nncp "$node" nncp-stat -node "$peer" 2>/dev/null \
        | awk -F'|' '/Tx:/ {split($3, f, ","); sub(/ *pkts/, "", f[2]); n += f[2]} END {print n + 0}'
}

# fed_nncp_sender NODE PEER: what strikecd-nncp-send@PEER.path does under systemd, in the
# harness: hands NODE's batches for PEER to nncp-exec (the same script, as root here).
# It polls the outbox every 0.2 s (the path unit's inotify is tested under systemd); a
# file NODE/pause-PEER stops it handing off, so a test can take a batch away ("lost").
fed_nncp_sender() {
    local node="$1" peer="$2"
    fed_spawn "$node" "send-$peer" env STRIKECD_OUTBOX="$FED_DIR/$node/outbox" STRIKECD_USER=root NNCP_USER=root \
        NNCPCFG="$FED_DIR/$node/nncp/nncp.hjson" FED_PAUSE="$FED_DIR/$node/pause-$peer" FED_SEND="$FED_SEND" PEER="$peer" \
        bash -c 'while :; do [ -e "$FED_PAUSE" ] || "$FED_SEND" "$PEER" >> "$FED_PAUSE.log" 2>&1; sleep 0.2; done'
}

# --- strikecd ------------------------------------------------------------------------

# fed_strikecd_config NODE < peers-and-inboxes-yaml: NODE's strikecd.yaml, with its own
# spool, database, socket and outbox, signatures required against the shared keyring.
fed_strikecd_config() {
    local node="$1" d="$FED_DIR/$1"
    # (Not the outbox: the daemon makes outbox_directory and each nncp peer's directory.)
    mkdir -p "$d/spool/incoming" "$d/spool/tmp" "$d/spool/quarantine" "$d/state"
    {
        cat <<YAML
node: $node
spool: $d/spool
database: $d/state/state.sqlite
socket: $d/socket
outbox_directory: $d/outbox
gap_report_interval: ${FED_GAP_REPORT_INTERVAL:-3s}
signatures: required
keyring: $FED_DIR/keyring
grace_period: 1s
rescan_interval: 5s
YAML
        cat
    } > "$d/strikecd.yaml"
}

# fed_strikecd_start NODE: the daemon, in NODE's namespace, until it answers.
fed_strikecd_start() {
    local node="$1"
    fed_spawn "$node" strikecd "$STRIKECD_BIN/strikecd" run --config "$FED_DIR/$node/strikecd.yaml" --log console
    fed_wait 30 "strikecd at $node to answer" fed_status "$node" > /dev/null
}

fed_strikectl() { local node="$1"; shift; "$STRIKECD_BIN/strikectl" --socket "$FED_DIR/$node/socket" "$@"; }
fed_status() { fed_strikectl "$1" status --json > /dev/null 2>&1; }

# fed_digest NODE: the state digest (strikectl status --digest), or nothing.
fed_digest() {
    fed_strikectl "$1" status --digest --json 2>/dev/null \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])' 2>/dev/null
}

# fed_applied NODE: messages applied (Summary's messages.applied).
fed_applied() {
    fed_strikectl "$1" status --json 2>/dev/null \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["messages"]["applied"])' 2>/dev/null
}

# fed_peer NODE PEER FIELD: a field of PEER in NODE's `strikectl peers --json`.
fed_peer() {
    fed_strikectl "$1" peers --json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    if not line.strip():
        continue
    value = json.loads(line)
    peers = value if isinstance(value, list) else value.get("peers", [value])
    for peer in peers:
        if peer.get("name") == sys.argv[1]:
            print(json.dumps(peer.get(sys.argv[2])))' "$2" "$3"
}

# Whether every NODE given has the same non-empty digest and has applied at least MIN.
fed_agree() {
    local min="$1" node first="" digest applied
    shift
    for node in "$@"; do
        applied="$(fed_applied "$node")"
        [ -n "$applied" ] && [ "$applied" -ge "$min" ] || return 1
        digest="$(fed_digest "$node")"
        [ -n "$digest" ] || return 1
        [ -n "$first" ] || first="$digest"
        [ "$digest" = "$first" ] || return 1
    done
}

# fed_converge SECONDS MIN NODE...: wait until the nodes agree (fed_agree), or fail and
# show each node's numbers.
fed_converge() {
    local seconds="$1" min="$2" node
    shift 2
    local deadline=$((SECONDS + seconds))
    until fed_agree "$min" "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            for node in "$@"; do
                fed_log "$node: applied $(fed_applied "$node"), digest $(fed_digest "$node")"
            done
            fed_fail "no convergence within ${seconds}s"
        fi
        sleep 0.2
    done
}

# --- Syncthing -----------------------------------------------------------------------

FED_ST_KEY=strikecd-federation-test

# fed_st NODE METHOD PATH [curl args]: Syncthing's REST API in NODE's namespace.
fed_st() {
    local node="$1" method="$2" path="$3"
    shift 3
    ip netns exec "$FED_RUN-$node" curl -fsS --max-time 5 -X "$method" -H "X-API-Key: $FED_ST_KEY" \
        -H 'Content-Type: application/json' "http://127.0.0.1:8384$path" "$@"
}
fed_st_up() { fed_st "$1" GET /rest/system/ping > /dev/null 2>&1; }

# fed_syncthing_start NODE: a Syncthing instance of its own (home under the run's
# directory) in NODE's namespace, listening only on NODE's address, with global and local
# discovery, relays, NAT traversal, usage and crash reporting and upgrades off.
fed_syncthing_start() {
    local node="$1" home="$FED_DIR/$1/syncthing"
    syncthing generate --home="$home" --no-default-folder --skip-port-probing > /dev/null 2>&1
    syncthing serve --home="$home" --device-id > "$FED_DIR/$node/device-id"
    fed_spawn "$node" syncthing env STNOUPGRADE=1 STNODEFAULTFOLDER=1 syncthing serve --home="$home" --no-browser \
        --gui-address=http://127.0.0.1:8384 --gui-apikey="$FED_ST_KEY" --logfile=default
    fed_wait 30 "Syncthing at $node" fed_st_up "$node"
    fed_st "$node" PATCH /rest/config/options -d "{\"listenAddresses\":[\"tcp://${FED_IP[$node]}:22000\"],
        \"globalAnnounceEnabled\":false,\"localAnnounceEnabled\":false,\"relaysEnabled\":false,\"natEnabled\":false,
        \"urAccepted\":-1,\"autoUpgradeIntervalH\":0,\"crashReportingEnabled\":false,\"startBrowser\":false}" > /dev/null
}

# fed_syncthing_link FROM TO: each device knows the other at its address, and a folder
# sc-FROM-TO is send-only at FROM (FROM/st/to-TO) and receive-only at TO (TO/st/from-FROM).
fed_syncthing_link() {
    local from="$1" to="$2" node peer
    for pair in "$from $to" "$to $from"; do
        read -r node peer <<<"$pair"
        fed_st "$node" PUT "/rest/config/devices/$(cat "$FED_DIR/$peer/device-id")" -d "{\"deviceID\":\"$(cat "$FED_DIR/$peer/device-id")\",
            \"name\":\"$peer\",\"addresses\":[\"tcp://${FED_IP[$peer]}:22000\"],\"autoAcceptFolders\":false}" > /dev/null
    done
    mkdir -p "$FED_DIR/$from/st/to-$to" "$FED_DIR/$to/st/from-$from"
    fed_syncthing_folder "$from" "sc-$from-$to" "$FED_DIR/$from/st/to-$to" sendonly "$to"
    fed_syncthing_folder "$to" "sc-$from-$to" "$FED_DIR/$to/st/from-$from" receiveonly "$from"
}

fed_syncthing_folder() {
    local node="$1" id="$2" path="$3" type="$4" peer="$5"
    fed_st "$node" PUT "/rest/config/folders/$id" -d "{\"id\":\"$id\",\"label\":\"$id\",\"path\":\"$path\",\"type\":\"$type\",
        \"devices\":[{\"deviceID\":\"$(cat "$FED_DIR/$peer/device-id")\"}],\"fsWatcherEnabled\":true,\"fsWatcherDelayS\":1,
        \"rescanIntervalS\":10,\"ignorePerms\":true}" > /dev/null
}

# fed_syncthing_restart NODE: for the options that need it (the listen address).
fed_syncthing_restart() {
    local node="$1"
    fed_st "$node" POST /rest/system/restart > /dev/null
    fed_wait 30 "Syncthing at $node to go down" eval '! fed_st_up '"$node"
    fed_wait 30 "Syncthing at $node to come back" fed_st_up "$node"
}

# Whether NODE is connected to PEER.
fed_st_connected() {
    fed_st "$1" GET /rest/system/connections 2>/dev/null | python3 -c '
import json, sys
print(json.load(sys.stdin)["connections"].get(sys.argv[1], {}).get("connected", False))' "$(cat "$FED_DIR/$2/device-id")" \
        | grep -qx True
}
