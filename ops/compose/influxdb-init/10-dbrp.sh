#!/bin/bash
# First start only (the influxdb image runs /docker-entrypoint-initdb.d after setup): map the
# InfluxQL database of the same name to the bucket, so that Grafana's InfluxQL datasource works.
set -euo pipefail
bucket_id="$(influx bucket list --name "${DOCKER_INFLUXDB_INIT_BUCKET}" --hide-headers | cut -f1)"
influx v1 dbrp create --db "${DOCKER_INFLUXDB_INIT_BUCKET}" --rp autogen \
    --bucket-id "${bucket_id}" --default
