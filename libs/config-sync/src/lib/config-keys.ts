/** Redis keys and channels of the desired-state transport and the template share. */
export const CONFIG_KEYS = {
  /** Cluster-wide counter, +1 per stored version of any scope. */
  revision: 'flowmesh:cfg:revision',
  /** Hash scope -> latest ConfigVersion (JSON). */
  heads: 'flowmesh:cfg:heads',
  /** Hash scope -> "<version>:<revision>" of the latest version (cheap to poll). */
  headRevisions: 'flowmesh:cfg:head-rev',
  /** Hash version -> ConfigVersion (JSON); never rewritten. */
  versions: (scope: string) => `flowmesh:cfg:versions:${scope}`,
  /** The master's Ed25519 public key (SPKI PEM), for trust-on-first-use nodes. */
  publicKey: 'flowmesh:cfg:pubkey',
  /** Hash node id -> ConfigAck (JSON). */
  acks: 'flowmesh:cfg:acks',
  /** Pub/sub wake-up after a put: {scope, version, revision}. Lossy: consumers also poll. */
  wake: 'flowmesh:cfg:wake',
  /** Pub/sub after every ack: the ConfigAck JSON. */
  ackEvents: 'flowmesh:cfg:ack-events',
} as const;

export const TEMPLATE_KEYS = {
  /** Sorted set exporter -> last update (ms). */
  exporters: 'flowmesh:tpl:exporters',
  /** Hash domain -> TemplateEntry (JSON). */
  exporter: (exporter: string) => `flowmesh:tpl:exp:${exporter}`,
  /** Pub/sub: {exporter, domain, node}. */
  wake: 'flowmesh:tpl:wake',
} as const;
