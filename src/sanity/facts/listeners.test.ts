import {describe, expect, it} from 'vitest';
import {parseProcNetTcp, socketInode} from './listeners.js';

// Recorded from this VM with servers on 0.0.0.0:2024 (sshd), 0.0.0.0:34959, [::1]:38545 and [::]:43297,
// plus hand-written lines for 127.0.0.1, an established connection and v4-mapped / global v6 listeners.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1059 1 00000000ede00335 100 0 0 10 0                      
   1: 00000000:888F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 85611 1 00000000b7e5e480 100 0 0 10 0                     
   2: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 90001 1 0000000000000000 100 0 0 10 0
   3: 0100007F:1F40 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000  1000        0 90002 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:9691 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 85610 1 00000000eed22b35 100 0 0 10 0
   1: 00000000000000000000000000000000:A921 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 85612 1 0000000096060da2 100 0 0 10 0
   2: 0000000000000000FFFF00000A00000A:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 85613 1 0000000000000000 100 0 0 10 0
   3: B80D0120000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 85614 1 0000000000000000 100 0 0 10 0
`;

describe('/proc/net/tcp parsing', () => {
  it('lists IPv4 listeners with address, port and inode, and skips other states', () => {
    expect(parseProcNetTcp(TCP)).toEqual([
      {address: '0.0.0.0', port: 2024, inode: 1059},
      {address: '0.0.0.0', port: 34959, inode: 85611},
      {address: '127.0.0.1', port: 8000, inode: 90001},
    ]);
  });

  it('decodes IPv6 addresses word by word, compressed as ss prints them', () => {
    expect(parseProcNetTcp(TCP6)).toEqual([
      {address: '::1', port: 38545, inode: 85610},
      {address: '::', port: 43297, inode: 85612},
      {address: '::ffff:10.0.0.10', port: 8080, inode: 85613},
      {address: '2001:db8::1', port: 80, inode: 85614},
    ]);
  });

  it('ignores blank and malformed lines', () => {
    expect(parseProcNetTcp('')).toEqual([]);
    expect(parseProcNetTcp('header\n\n   0: garbage\n')).toEqual([]);
  });

  it('reads the socket inode from an fd link, and nothing from other links', () => {
    expect(socketInode('socket:[85611]')).toBe(85611);
    expect(socketInode('pipe:[1234]')).toBeUndefined();
    expect(socketInode('/dev/null')).toBeUndefined();
  });
});
