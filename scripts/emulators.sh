# Sourced by scripts/test and bench/run, from the project's root: starts the Pub/Sub and
# Firestore emulators on free ports, each in its own process group (the gcloud wrapper starts a
# Java child), waits until they answer, exports PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST,
# and stops them when the sourcing script exits.
me=${0##*/}
command -v gcloud >/dev/null || { echo "$me: gcloud (with the Pub/Sub and Firestore emulators) is needed" >&2; exit 1; }

logs=$(mktemp -d)
groups=()
stop_emulators() {
  for pgid in "${groups[@]}"; do
    kill -TERM -- "-$pgid" 2>/dev/null || true
  done
  for pgid in "${groups[@]}"; do
    for _ in $(seq 50); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
  done
}
trap stop_emulators EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME PORT COMMAND...: runs COMMAND in a new process group, logging to $logs/NAME.log.
start() {
  local name=$1 port=$2; shift 2
  setsid "$@" >"$logs/$name.log" 2>&1 &
  groups+=("$!")
  for _ in $(seq 600); do
    if curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "$me: the $name emulator did not answer within 60 s; its log:" >&2
  cat "$logs/$name.log" >&2
  exit 1
}

pubsub_port=$(free_port)
firestore_port=$(free_port)
start pubsub "$pubsub_port" gcloud beta emulators pubsub start --host-port="127.0.0.1:$pubsub_port" --project=krawlr-local
start firestore "$firestore_port" gcloud emulators firestore start --host-port="127.0.0.1:$firestore_port"
export PUBSUB_EMULATOR_HOST="127.0.0.1:$pubsub_port"
export FIRESTORE_EMULATOR_HOST="127.0.0.1:$firestore_port"

