#!/usr/bin/env bash
# Lab "spark" (roles/lab_spark, lab_spark_images), pins in
# tools/lab-images/spark.env. Sourced by scripts/build-lab-images.sh, which
# builds it with the other labs' images; run on its own
# (`scripts/lab-images/spark.sh [--rebuild|--check|--list|--dir]`), it
# builds only this image, into the same cache.
#
# - docker.io/apache/spark:<SPARK_IMAGE_TAG>: a stand-in for the official
#   image of the pinned release, labelled io.kube-atelier.substitute. Made of
#   Debian's openjdk-17-jre-headless, tini, bash, coreutils and procps (their
#   files and their dependencies', copied from a cached debootstrap as for the
#   scheduling lab's images) and /opt/spark from the pinned pyspark sdist
#   (deps/bin, deps/jars less SPARK_IMAGE_EXCLUDE_JARS: what SparkPi on the
#   Kubernetes backend does not load); the project's own entrypoint
#   (scripts/lab-images/spark/entrypoint.sh: driver, executor, pass-through)
#   at /opt/entrypoint.sh and its own SparkPi (spark/SparkPi.java, compiled
#   with javac) at the official examples jar's path; user 185, work dir
#   /opt/spark/work-dir, as the official image. What it lacks: Spark SQL,
#   PySpark, SparkR, the other examples, /opt/decom.sh (decommissioning).
#
# The sdist is kept beside the archives as $OUT/pyspark-<version>.tar.gz (the
# role's offline client source, lab_spark_client_source: pyspark, reads it).

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  # shellcheck source=../lib/lab-recipe.sh
  . "$(dirname "$0")/../lib/lab-recipe.sh"
fi

IMAGES+=("docker.io/apache/spark:$SPARK_IMAGE_TAG")
SPARK_EXAMPLES_JAR=/opt/spark/examples/jars/spark-examples_$SPARK_SCALA_VERSION-$SPARK_VERSION.jar
SPARK_RECIPE_DIR=$ATELIER_ROOT/scripts/lab-images/spark

# spark_sdist: the pinned pyspark sdist, downloaded once with pip (its
# configured index) into $OUT and checked against SPARK_PYSPARK_SHA256;
# prints its path.
spark_sdist() {
  local sdist=$OUT/pyspark-$SPARK_VERSION.tar.gz pip=("$ATELIER_ROOT/.venv/bin/python" -m pip)
  [ -x "${pip[0]}" ] || pip=(python3 -m pip)
  if ! echo "$SPARK_PYSPARK_SHA256  $sdist" | sha256sum --check --status 2>/dev/null; then
    log "pip download pyspark==$SPARK_VERSION (the sdist, once, kept in $OUT)"
    rm -f "$sdist"
    nice -n 10 "${pip[@]}" download -q --no-deps --no-binary :all: -d "$WORK/sdist" "pyspark==$SPARK_VERSION" >&2 \
      || die "pip download pyspark==$SPARK_VERSION failed"
    mv "$WORK/sdist/pyspark-$SPARK_VERSION.tar.gz" "$sdist.partial"
    echo "$SPARK_PYSPARK_SHA256  $sdist.partial" | sha256sum --check --status \
      || die "pyspark-$SPARK_VERSION.tar.gz does not have the sha256 pinned in tools/lab-images/spark.env"
    mv "$sdist.partial" "$sdist"
  fi
  echo "$sdist"
}

build_spark() {
  local ref=$1 sdist tar root versions src jar
  apt_install openjdk-17-jdk-headless
  sdist=$(spark_sdist)
  tar=$(debootstrap_tar lab-debian-java "$SPARK_DEBIAN_PACKAGES,coreutils")
  root=$(mktemp -d "$WORK/rootfs.XXXXXX")
  versions=$(debian_packages_rootfs "$root" "$tar" openjdk-17-jre-headless tini bash coreutils procps)
  [[ " $versions" == *" openjdk-17-jre-headless=17."* ]] || die "Debian $DEBIAN_SUITE has ${versions%% *}, not Java 17 ($ref)"
  static_rootfs "$root"
  # The official image's user: spark, uid and gid 185.
  echo 'spark:x:185:185:spark:/opt/spark/work-dir:/bin/bash' >>"$root/etc/passwd"
  echo 'spark:x:185:' >>"$root/etc/group"
  # What Debian's maintainer scripts would have made: the java command
  # (update-alternatives) and Java's CA store (ca-certificates-java).
  ln -s "$SPARK_JAVA_HOME/bin/java" "$root/usr/bin/java"
  tar -C "$root" -xf "$tar" ./etc/ssl/certs/java/cacerts 2>/dev/null || true

  # /opt/spark: the release's bin/ and jars/ from the sdist, less the jars
  # SparkPi on Kubernetes does not load.
  src=$WORK/pyspark
  mkdir -p "$src" "$root/opt/spark/examples/jars" "$root/opt/spark/conf" "$root/opt/spark/work-dir"
  tar -C "$src" --strip-components=2 -xzf "$sdist" "pyspark-$SPARK_VERSION/deps/bin" "pyspark-$SPARK_VERSION/deps/jars" \
    || die "$sdist has no deps/bin and deps/jars"
  local pattern patterns
  IFS=$' \n' read -d '' -ra patterns <<<"$SPARK_IMAGE_EXCLUDE_JARS" || true
  for pattern in "${patterns[@]}"; do
    # shellcheck disable=SC2086 # the pattern is a glob on purpose
    rm -rf "$src"/jars/$pattern
  done
  [ -f "$src/jars/spark-kubernetes_$SPARK_SCALA_VERSION-$SPARK_VERSION.jar" ] \
    || die "no spark-kubernetes_$SPARK_SCALA_VERSION-$SPARK_VERSION.jar in pyspark $SPARK_VERSION"
  cp -a "$src/bin" "$src/jars" "$root/opt/spark/"
  rm -f "$root"/opt/spark/bin/*.cmd

  # The project's SparkPi, at the official examples jar's path.
  mkdir -p "$WORK/sparkpi"
  javac --release 17 -nowarn -d "$WORK/sparkpi" -cp "$src/jars/*" "$SPARK_RECIPE_DIR/SparkPi.java" \
    || die "javac SparkPi.java failed"
  jar=$root$SPARK_EXAMPLES_JAR
  (cd "$WORK/sparkpi" && jar --create --file "$jar" org)
  install -m 0755 "$SPARK_RECIPE_DIR/entrypoint.sh" "$root/opt/entrypoint.sh"
  chown 185:185 "$root/opt/spark/work-dir"
  chmod 0775 "$root/opt/spark/work-dir"
  versions=${versions% }
  make_image "$ref" "$root" "ENV JAVA_HOME=$SPARK_JAVA_HOME" 'ENV SPARK_HOME=/opt/spark' \
    'WORKDIR /opt/spark/work-dir' 'USER 185' 'ENTRYPOINT ["/opt/entrypoint.sh"]' \
    "LABEL io.kube-atelier.substitute=debian:$DEBIAN_SUITE,pyspark=$SPARK_VERSION,${versions// /,}"
  rm -rf "$root" "$src" "$WORK/sparkpi"
}

# version_check_spark REF: user 185, and the driver command of the
# entrypoint running SparkPi in local mode prints pi.
version_check_spark() {
  local ref=$1 out uid
  uid=$(podman run --rm --network none --entrypoint id "$ref" -u 2>&1) || die "podman run $ref id -u failed: $uid"
  [ "$uid" = 185 ] || die "$ref runs as uid $uid, not 185"
  out=$(podman run --rm --network none -e SPARK_DRIVER_BIND_ADDRESS=127.0.0.1 "$ref" driver --master 'local[2]' \
    --conf spark.ui.enabled=false --class org.apache.spark.examples.SparkPi "local://$SPARK_EXAMPLES_JAR" 4 2>&1) \
    || die "SparkPi in $ref failed: ${out: -600}"
  [[ $out == *"Pi is roughly 3."* ]] || die "SparkPi in $ref printed no 'Pi is roughly': ${out: -600}"
  out=$(grep -o 'Pi is roughly [0-9.]*' <<<"$out")
  printf 'Spark %s, uid 185, SparkPi local[2]: %s' "$SPARK_VERSION" "$out"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  build_image() { build_spark "$1"; }
  version_check() { version_check_spark "$1"; }
  parse_image_options "$@"
  if [ "$mode" = list ]; then
    print_image_list
    exit 0
  fi
  apt_install podman tar debootstrap
  begin_build lab
  build_images
fi
