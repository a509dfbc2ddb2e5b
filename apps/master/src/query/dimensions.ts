/** Dimensions a federated query may group by (the node <-> master aggregate contract). */
export const QUERY_DIMENSIONS = [
  'src_addr', 'dst_addr', 'src_port', 'dst_port', 'protocol', 'exporter_addr', 'next_hop',
  'in_if', 'out_if', 'src_as', 'dst_as', 'tos', 'ip_version', 'flow_type',
] as const;
export type QueryDimension = (typeof QUERY_DIMENSIONS)[number];

export const ORDER_METRICS = ['bytes', 'packets', 'flows'] as const;
export type OrderMetric = (typeof ORDER_METRICS)[number];
