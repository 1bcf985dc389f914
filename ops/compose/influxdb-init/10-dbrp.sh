#!/bin/bash
# First start only (the influxdb image runs /docker-entrypoint-initdb.d after setup): map the
# InfluxQL database of the same name to the bucket, so that Grafana's InfluxQL datasource works.
# InfluxDB 2.1+ also has a virtual mapping of its own; an explicit one is kept, not required.
set -euo pipefail
bucket_id="$(influx bucket list --name "${DOCKER_INFLUXDB_INIT_BUCKET}" --hide-headers | cut -f1)"
influx v1 dbrp create --db "${DOCKER_INFLUXDB_INIT_BUCKET}" --rp autogen \
    --bucket-id "${bucket_id}" --default \
    || echo "dbrp mapping for ${DOCKER_INFLUXDB_INIT_BUCKET} not created (exists already?)"
