"""Exit 0 iff a Milvus gRPC server answers at the given address: milvus_probe.py HOST:PORT."""
import sys

from pymilvus import MilvusClient

try:
    MilvusClient(uri="http://" + sys.argv[1], timeout=3).list_collections()
except Exception as e:  # any failure means "not healthy"
    print(e, file=sys.stderr)
    sys.exit(1)
