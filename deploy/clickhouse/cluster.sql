-- Cluster-wide read tables over the flowmesh tables of every shard. Run on each shard you want to query
-- through, AFTER a collector node has migrated that shard (the node creates flows, flows_1m, flows_1h,
-- flows_src_1h, flows_dst_1h). The master reads them when query.cluster.url points at that server.
-- Works on ClickHouse 18.16 and newer. Inserts never go through these tables: each node writes its shard.
-- Every shard must use the same database name (storage.clickhouse.database) for Distributed(…, flowmesh, …).
-- Rollups (SummingMergeTree) are folded lazily: always query them with sum(…) GROUP BY.
CREATE TABLE IF NOT EXISTS flowmesh.flows_all AS flowmesh.flows ENGINE = Distributed(flowmesh_cluster, flowmesh, flows, rand());
CREATE TABLE IF NOT EXISTS flowmesh.flows_1m_all AS flowmesh.flows_1m ENGINE = Distributed(flowmesh_cluster, flowmesh, flows_1m, rand());
CREATE TABLE IF NOT EXISTS flowmesh.flows_1h_all AS flowmesh.flows_1h ENGINE = Distributed(flowmesh_cluster, flowmesh, flows_1h, rand());
CREATE TABLE IF NOT EXISTS flowmesh.flows_src_1h_all AS flowmesh.flows_src_1h ENGINE = Distributed(flowmesh_cluster, flowmesh, flows_src_1h, rand());
CREATE TABLE IF NOT EXISTS flowmesh.flows_dst_1h_all AS flowmesh.flows_dst_1h ENGINE = Distributed(flowmesh_cluster, flowmesh, flows_dst_1h, rand());
