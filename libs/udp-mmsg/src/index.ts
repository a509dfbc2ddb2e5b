export { loadUdpMmsg, MmsgUdpSocket, MmsgReceiver, MmsgBatch, formatIpv6, sharedCopier } from './lib/mmsg-socket';
export type { MmsgOpenOptions, UdpMmsgBinding } from './lib/mmsg-socket';
