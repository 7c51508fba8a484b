"""File input and output for sparkish, on any fsspec filesystem.

The driver plans (lists files, cuts them into splits, sets up an output job); workers read and
write the files themselves through the fsspec filesystem carried inside each split or job spec.
Paths are URLs resolved with ``fsspec.core.url_to_fs(url, **storage_options)``: plain local
paths, ``file:/...`` (Hadoop style) or ``file:///...``, ``memory://``, ``hdfs://``,
``webhdfs://``, ``s3://`` (with s3fs installed) and so on.

============================  ==========================================================
PySpark call                  sparkish.io functions
============================  ==========================================================
``textFile``                  :func:`plan_text_splits` -> :func:`read_text_split`
``wholeTextFiles``            :func:`plan_whole_file_splits` -> :func:`read_whole_text_files`
``binaryFiles``               ``plan_whole_file_splits(..., decompress=False,
                              operation="binaryFiles")`` -> :func:`read_binary_files`
``binaryRecords``             :func:`plan_binary_record_splits` -> :func:`read_binary_records`
``pickleFile``                :func:`plan_pickle_splits` -> :func:`read_pickle_split`
``saveAsTextFile``            :class:`OutputCommitter` + :func:`write_task` (``kind="text"``)
``saveAsPickleFile``          :class:`OutputCommitter` + :func:`write_task` (``kind="pickle"``)
``parquetFile``               ``plan_text_splits`` -> ``parquet.read_parquet_split``
``csvFile`` / ``jsonFile``    ``plan_text_splits`` -> ``structured_text.read_csv_split`` /
                              ``read_json_split``
``saveAsParquetFile``         :class:`OutputCommitter` + ``parquet.write_parquet_task``
============================  ==========================================================

Using your own HDFS
-------------------
``hdfs://`` is served by `hdfs-native <https://pypi.org/project/hdfs-native/>`_, a native
(Rust) HDFS client: no JVM, no ``libhdfs``. It speaks Hadoop 3 RPC, including HA name services,
ViewFS, Kerberos (``kinit`` first; needs ``libgssapi_krb5``) and encrypted data transfer.

* ``hdfs://namenode.example.com:8020/data/logs`` -- NameNode host and RPC port (8020 by default,
  some distributions use 9000). Use the host name or IP address the NameNode listens on
  (``127.0.0.1`` rather than ``localhost`` for a cluster bound to IPv4 loopback).
* ``hdfs:///data/logs`` or ``hdfs://mycluster/data/logs`` -- take the default filesystem or the
  HA name service ``mycluster`` from ``core-site.xml`` / ``hdfs-site.xml`` in
  ``$HADOOP_CONF_DIR`` (or ``$HADOOP_HOME/etc/hadoop``); ``viewfs://`` works the same way.
* ``storage_options`` are extra Hadoop configuration keys for the client, e.g.
  ``{"dfs.client.use.datanode.hostname": "true"}`` when DataNodes are only reachable by name
  (NAT, containers). The HDFS user is ``$HADOOP_USER_NAME`` or the login name.
* ``webhdfs://namenode.example.com:9870/data/logs`` goes through the NameNode's HTTP gateway
  (WebHDFS or HttpFS) with fsspec's ``WebHDFS`` client: set the port explicitly (Hadoop 3 uses
  9870, fsspec's default 50070 is Hadoop 2's), and pass ``storage_options={"user": "alice"}``
  (otherwise requests run as ``dr.who``), or ``{"kerberos": True}``; ``{"data_proxy": {...}}``
  maps DataNode host names the client cannot resolve.

A NameNode that refuses connections is reported at planning time with a ``ConnectionError``
rather than after the HDFS client's minutes of retries.
"""

from .compression import codec_for_name, codec_for_path, supported_codec_names
from .readers import (
    DEFAULT_CHUNK_SIZE,
    read_binary_files,
    read_binary_records,
    read_pickle_split,
    read_text_split,
    read_text_split_batches,
    read_whole_text_files,
)
from .splits import (
    DEFAULT_MAX_SPLIT_BYTES,
    DEFAULT_OPEN_COST_BYTES,
    FileSegment,
    InputSplit,
    plan_binary_record_splits,
    plan_pickle_splits,
    plan_text_splits,
    plan_whole_file_splits,
)
from .writers import (
    SUCCESS_MARKER,
    TEMPORARY_DIR,
    OutputCommitter,
    TaskCommitMessage,
    WriteJobSpec,
    write_pickle_frames,
    write_task,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_SPLIT_BYTES",
    "DEFAULT_OPEN_COST_BYTES",
    "SUCCESS_MARKER",
    "TEMPORARY_DIR",
    "FileSegment",
    "InputSplit",
    "OutputCommitter",
    "TaskCommitMessage",
    "WriteJobSpec",
    "codec_for_name",
    "codec_for_path",
    "plan_binary_record_splits",
    "plan_pickle_splits",
    "plan_text_splits",
    "plan_whole_file_splits",
    "read_binary_files",
    "read_binary_records",
    "read_pickle_split",
    "read_text_split",
    "read_text_split_batches",
    "read_whole_text_files",
    "supported_codec_names",
    "write_pickle_frames",
    "write_task",
]
