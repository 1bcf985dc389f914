#!/bin/sh
# Entry point of the hinode image. `collector`, `care-api`, `ev-controller` and `shuttle-service`
# get their settings from
# the environment and Docker secrets (never from the image or the compose file); anything else
# is passed to the `hinode` command as it is.
set -eu

runtime="${HINODE_RUNTIME_DIR:-/tmp}"

secret() {
    # A secret from a file (Docker secret), without its trailing newline.
    tr -d '\n' < "$1"
}

broker_url() {
    password="$(secret "${HINODE_MQTT_PASSWORD_FILE:?}")"
    printf 'mqtts://%s:%s@%s:%s' "${HINODE_MQTT_USERNAME:?}" "$password" \
        "${HINODE_MQTT_HOST:-mosquitto}" "${HINODE_MQTT_PORT:-8884}"
}

state_url() {
    if [ -n "${HINODE_STATE:-}" ]; then
        printf '%s' "$HINODE_STATE"
    else
        printf 'postgresql://%s:%s@%s:5432/%s' "${POSTGRES_USER:?}" "${POSTGRES_PASSWORD:?}" \
            "${POSTGRES_HOST:-postgres}" "${POSTGRES_DB:?}"
    fi
}

case "${1:-}" in
collector)
    shift
    # Replicas share one broker identity; the client id must differ, so it takes the host name.
    config="$runtime/collector.yaml"
    umask 077
    cat > "$config" <<CONFIG
broker: $(broker_url)
client_id: collector-$(hostname)
shared_group: ${HINODE_SHARED_GROUP:-hinode}
data_dir: ${HINODE_DATA_DIR:-/var/lib/hinode}
store: ${HINODE_STORE:-influx://influxdb:8086?org=${INFLUXDB_ORG:-hinode}&bucket=${INFLUXDB_BUCKET:-hinode}}
state: $(state_url)
log_level: ${HINODE_LOG_LEVEL:-info}
CONFIG
    exec hinode cloud run "$config" "$@"
    ;;
care-api)
    shift
    # Care state in its own schema, which Grafana's database role cannot read.
    exec hinode care serve --data-dir "${HINODE_DATA_DIR:-/var/lib/hinode}" \
        --state "${HINODE_CARE_STATE:-$(state_url)?schema=care}" \
        --store "${HINODE_STORE:-influx://influxdb:8086?org=${INFLUXDB_ORG:-hinode}&bucket=${INFLUXDB_BUCKET:-hinode}}" \
        --host 0.0.0.0 --port "${HINODE_CARE_PORT:-8470}" "$@"
    ;;
ev-controller)
    shift
    # The controller reads the store the collectors write (InfluxDB in production).
    exec hinode energy run "${HINODE_EV_CONFIG:-/etc/hinode/ev-site.yaml}" \
        --store "${HINODE_STORE:-influx://influxdb:8086?org=${INFLUXDB_ORG:-hinode}&bucket=${INFLUXDB_BUCKET:-hinode}}" \
        --decisions "${HINODE_DATA_DIR:-/var/lib/hinode}/ev-decisions.jsonl" \
        --broker "$(broker_url)" "$@"
    ;;
shuttle-service)
    shift
    # Rides booked over HTTP (for the callers in the token file, if one is given), routes out as
    # commands; its promises are kept in the data directory across restarts.
    if [ -n "${HINODE_BOOKING_TOKENS:-}" ]; then
        set -- --token-file "$HINODE_BOOKING_TOKENS" "$@"
    fi
    exec hinode mobility run "${HINODE_SHUTTLE_CONFIG:-/etc/hinode/shuttles.yaml}" \
        --broker "$(broker_url)" --data-dir "${HINODE_DATA_DIR:-/var/lib/hinode}" \
        --http-host "${HINODE_BOOKING_HOST:-0.0.0.0}" --http-port "${HINODE_BOOKING_PORT:-8480}" "$@"
    ;;
*)
    exec hinode "$@"
    ;;
esac
