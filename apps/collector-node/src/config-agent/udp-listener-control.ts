import type { Logger } from '@flowmesh/common';
import type { UdpInput } from '../udp-input/udp-input.component';
import { LISTENER_NAMES, ListenersConfig } from '../udp-input/udp-input.config';
import type { ListenerControl } from './node-config-target';

/**
 * Re-binds the node's UdpInput in place: UdpInput reads the ListenersConfig object it was built with on every
 * start(), so the values are copied into that object and the input is stopped and started again. If the new
 * sockets cannot all be bound, the previous values are restored and re-bound, and the error is thrown.
 * (Datagrams arriving during the few milliseconds without a socket are lost; the kernel refuses them.)
 */
export class UdpListenerControl implements ListenerControl {
  constructor(
    private readonly udp: UdpInput,
    /** The very object given to the UdpInput constructor. */
    private readonly live: ListenersConfig,
    private readonly logger: Logger,
  ) {}

  current(): ListenersConfig {
    return JSON.parse(JSON.stringify(this.live)) as ListenersConfig;
  }

  async rebind(next: ListenersConfig): Promise<void> {
    const previous = this.current();
    await this.udp.stop();
    copyInto(this.live, next);
    try {
      await this.udp.start();
      this.logger.info('listeners re-bound', { listeners: this.udp.listeners() });
    } catch (e) {
      await this.udp.stop().catch(() => undefined);
      copyInto(this.live, previous);
      await this.udp.start();
      this.logger.warn('listener change failed; previous listeners re-bound', { error: (e as Error).message });
      throw e;
    }
  }
}

function copyInto(target: ListenersConfig, from: ListenersConfig): void {
  for (const n of LISTENER_NAMES) {
    target[n].enabled = from[n].enabled;
    target[n].address = from[n].address;
    target[n].port = from[n].port;
  }
  target.receiveBufferBytes = from.receiveBufferBytes;
}
