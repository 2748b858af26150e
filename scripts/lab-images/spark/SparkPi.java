/*
 * kube-atelier's SparkPi, a stand-in for the one of Spark's examples jar
 * (org.apache.spark.examples.SparkPi), which no source reachable here
 * serves: the same class name, arguments and output line. Compiled by
 * scripts/lab-images/spark.sh against the release's jars into
 * /opt/spark/examples/jars/spark-examples_<scala>-<version>.jar.
 *
 * Usage: SparkPi [SLICES]. Each of SLICES tasks throws 100000 random points
 * at the square [-1, 1]^2 and counts those inside the unit circle; the
 * driver prints "Pi is roughly <4 * inside / points>".
 *
 * Only spark-core's Java API: the examples' SparkPi goes through SparkSession
 * (spark-sql), which the image leaves out. The points are counted per slice
 * (the example parallelizes a range of all points): the same tasks, without
 * a list of every point on the driver.
 */
package org.apache.spark.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

public final class SparkPi {
  static final int POINTS_PER_SLICE = 100000;

  private SparkPi() {}

  /** Points of one slice that fall inside the unit circle. */
  static long inside(int points) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long count = 0;
    for (int i = 0; i < points; i++) {
      double x = random.nextDouble() * 2 - 1;
      double y = random.nextDouble() * 2 - 1;
      if (x * x + y * y <= 1) {
        count++;
      }
    }
    return count;
  }

  public static void main(String[] args) {
    int slices = 2;
    if (args.length > 0) {
      try {
        slices = Integer.parseInt(args[0]);
      } catch (NumberFormatException e) {
        slices = 0;
      }
      if (slices < 1) {
        System.err.println("SparkPi: SLICES must be a whole number of at least 1, not '" + args[0] + "'");
        System.exit(2);
      }
    }
    JavaSparkContext spark = new JavaSparkContext(new SparkConf().setAppName("Spark Pi"));
    try {
      List<Integer> ids = new ArrayList<>(slices);
      for (int i = 0; i < slices; i++) {
        ids.add(i);
      }
      long count = spark.parallelize(ids, slices).map(id -> inside(POINTS_PER_SLICE)).reduce(Long::sum);
      System.out.println("Pi is roughly " + 4.0 * count / ((long) POINTS_PER_SLICE * slices));
    } finally {
      spark.stop();
    }
  }
}
