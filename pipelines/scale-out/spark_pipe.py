"""spark_pipe.py - the dedupe and feat stages on a Spark cluster through
RDD.pipe, equal to the single run after asin-shard --merge.

    spark-submit --files bin/asin-shard,bin/asin-dedupe,bin/asin-feat,\\
        pipelines/scale-out/hadoop-reduce-feat.sh \\
        pipelines/scale-out/spark_pipe.py facts/2026-11-25 features/2026-11-25 64

Records are keyed with the same FNV-1a 32 partition as asin-shard (so a
partition here is the same set of ASINs as part-NNNNN of asin-shard -n),
each partition goes whole to one hadoop-reduce-feat.sh process, and
checkCode=True makes a non-zero exit fail the task (PySpark's default
ignores it).  Write each partition to its own file, then
asin-shard -k asin --merge part-* > features.ndjson.
"""
import json
import sys

from pyspark import SparkContext


def shard(asin, n):
    """asin-shard's partition: FNV-1a 32 of the UTF-8 key plus 0x1F, mod n."""
    h = 0x811C9DC5
    data = b"\x00\x1f" if asin is None else asin.encode("utf-8") + b"\x1f"
    for c in data:
        h = ((h ^ c) * 0x01000193) & 0xFFFFFFFF
    return h % n


def keyed(line):
    asin = json.loads(line).get("asin")
    esc = "\\N" if asin is None else json.dumps(asin, ensure_ascii=False)[1:-1]
    return (asin, esc + "\t" + line)


def main():
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sc = SparkContext(appName="asin-feat")
    (sc.textFile(src)
       .map(keyed)
       .partitionBy(n, lambda asin: shard(asin, n))
       .values()
       .pipe("./hadoop-reduce-feat.sh", checkCode=True)
       .saveAsTextFile(dst))


if __name__ == "__main__":
    main()
