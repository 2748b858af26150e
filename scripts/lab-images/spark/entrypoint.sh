#!/bin/bash
# kube-atelier's entrypoint of the Spark stand-in image (scripts/lab-images/spark.sh),
# honouring the contract of Spark's Kubernetes backend as the official
# image's /opt/entrypoint.sh does (the project's own code):
#
#   driver ARGS...    the driver pod: spark-submit in client mode inside the
#                     pod, bound to $SPARK_DRIVER_BIND_ADDRESS (the pod's IP),
#                     with the ARGS the backend passes (--properties-file,
#                     --class, the primary resource, the application's args)
#   executor          an executor pod: KubernetesExecutorBackend, from the
#                     environment the backend sets ($SPARK_DRIVER_URL,
#                     $SPARK_EXECUTOR_ID, _CORES, _MEMORY, _POD_IP, _POD_NAME,
#                     $SPARK_APPLICATION_ID, $SPARK_RESOURCE_PROFILE_ID) and
#                     its JVM options ($SPARK_JAVA_OPT_0, _1, ...)
#   anything else     run as given (pass-through, e.g. bash or spark-submit)
#
# Both run under tini (-s: a subreaper when not PID 1) so signals reach the JVM
# and its children are reaped. SPARK_ENTRYPOINT_DRY_RUN=1 prints the command,
# one argument a line, instead of running it (the tests).
set -eo pipefail

: "${SPARK_HOME:=/opt/spark}"
if [ -z "${JAVA_HOME:-}" ]; then
  JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
fi

# The classpath the executor runs with: the configuration, the jars, extra
# jars, Hadoop's configuration, the working directory.
SPARK_CLASSPATH="${SPARK_CLASSPATH:+$SPARK_CLASSPATH:}$SPARK_HOME/jars/*"
if [ -n "${SPARK_EXTRA_CLASSPATH:-}" ]; then
  SPARK_CLASSPATH="$SPARK_CLASSPATH:$SPARK_EXTRA_CLASSPATH"
fi
if [ -n "${HADOOP_CONF_DIR:-}" ]; then
  SPARK_CLASSPATH="$HADOOP_CONF_DIR:$SPARK_CLASSPATH"
fi
SPARK_CLASSPATH="${SPARK_CONF_DIR:-$SPARK_HOME/conf}:$SPARK_CLASSPATH:$PWD"

# SPARK_JAVA_OPT_<n>, in the order of n (the backend numbers them from 0).
java_opts=()
while IFS= read -r name; do
  java_opts+=("${!name}")
done < <(compgen -v SPARK_JAVA_OPT_ | sort -t_ -k4 -n)

# need MODE VARIABLE...: the backend sets these; without one the pod cannot
# start, so say which one rather than let the JVM fail on an empty argument.
need() {
  local mode=$1 name
  shift
  for name in "$@"; do
    if [ -z "${!name:-}" ]; then
      echo "entrypoint: $mode: \$$name is not set (Spark's Kubernetes backend sets it in the pod)" >&2
      exit 64
    fi
  done
}

run() {
  if [ "${SPARK_ENTRYPOINT_DRY_RUN:-}" = 1 ]; then
    printf '%s\n' "$@"
    exit 0
  fi
  exec tini -s -- "$@"
}

case "${1:-}" in
  driver)
    shift
    need driver SPARK_DRIVER_BIND_ADDRESS
    run "$SPARK_HOME/bin/spark-submit" \
      --conf "spark.driver.bindAddress=$SPARK_DRIVER_BIND_ADDRESS" \
      --conf "spark.executorEnv.SPARK_DRIVER_POD_IP=$SPARK_DRIVER_BIND_ADDRESS" \
      --deploy-mode client \
      "$@"
    ;;
  executor)
    shift
    need executor SPARK_DRIVER_URL SPARK_EXECUTOR_ID SPARK_EXECUTOR_CORES SPARK_EXECUTOR_MEMORY \
      SPARK_APPLICATION_ID SPARK_EXECUTOR_POD_IP
    run "$JAVA_HOME/bin/java" "${java_opts[@]}" \
      "-Xms$SPARK_EXECUTOR_MEMORY" "-Xmx$SPARK_EXECUTOR_MEMORY" \
      -cp "$SPARK_CLASSPATH${SPARK_DIST_CLASSPATH:+:$SPARK_DIST_CLASSPATH}" \
      org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
      --driver-url "$SPARK_DRIVER_URL" \
      --executor-id "$SPARK_EXECUTOR_ID" \
      --cores "$SPARK_EXECUTOR_CORES" \
      --app-id "$SPARK_APPLICATION_ID" \
      --hostname "$SPARK_EXECUTOR_POD_IP" \
      --resourceProfileId "${SPARK_RESOURCE_PROFILE_ID:-0}" \
      --podName "${SPARK_EXECUTOR_POD_NAME:-$HOSTNAME}" \
      "$@"
    ;;
  "")
    echo "entrypoint: say driver, executor, or a command to run" >&2
    exit 64
    ;;
  *)
    exec "$@"
    ;;
esac
