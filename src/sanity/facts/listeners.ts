/**
 * Who listens on which TCP port, from /proc alone (no `ss`, `lsof` or `netstat` needed):
 * /proc/net/tcp and /proc/net/tcp6 list sockets as hex `address:port` with a state (0A = LISTEN)
 * and an inode; a process holds the socket when one of /proc/<pid>/fd links to "socket:[inode]",
 * and /proc/<pid>/comm names it. Processes of other users are unreadable without root: their
 * ports are still listed, without a holder.
 */
import {readFileSync, readdirSync, readlinkSync} from 'node:fs';
import type {PortHolder} from '../check.js';

export interface ListeningSocket {
  address: string;
  port: number;
  inode: number;
}

const LISTEN = '0A';

/** IPv4 in /proc is the 32-bit address in host (little-endian) order: "0100007F" = 127.0.0.1. */
function ipv4(hex: string): string {
  const b = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return b.reverse().join('.');
}

/** IPv6 in /proc is four 32-bit words, each in host order; printed compressed ("::1", "::ffff:10.0.0.1"). */
function ipv6(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let i = 6; i >= 0; i -= 2) bytes.push(Number.parseInt(word.slice(i, i + 2), 16));
  }
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = Array.from({length: 8}, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  // The longest run of two or more zero groups becomes "::".
  let best = {at: -1, len: 0};
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = {at: i, len: j - i};
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (best.len < 2) return hexes.join(':');
  return `${hexes.slice(0, best.at).join(':')}::${hexes.slice(best.at + best.len).join(':')}`;
}

/** LISTEN sockets of one /proc/net/tcp or /proc/net/tcp6 text. */
export function parseProcNetTcp(text: string): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (f.length < 10 || f[3] !== LISTEN) continue;
    const [addr, port] = f[1]!.split(':');
    if (!addr || !port) continue;
    out.push({address: addr.length === 8 ? ipv4(addr) : ipv6(addr), port: Number.parseInt(port, 16), inode: Number(f[9])});
  }
  return out;
}

/** The socket inode a /proc/<pid>/fd link points at ("socket:[12345]"), if it is a socket. */
export function socketInode(link: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

const tryRead = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

const tryList = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** pid and command of the processes holding these socket inodes (the ones we may read). */
export function findHolders(inodes: ReadonlySet<number>, proc = '/proc'): Map<number, {pid: number; command: string}> {
  const found = new Map<number, {pid: number; command: string}>();
  if (!inodes.size) return found;
  for (const pid of tryList(proc)) {
    if (!/^\d+$/.test(pid)) continue;
    for (const fd of tryList(`${proc}/${pid}/fd`)) {
      let link: string;
      try {
        link = readlinkSync(`${proc}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = socketInode(link);
      if (inode === undefined || !inodes.has(inode) || found.has(inode)) continue;
      found.set(inode, {pid: Number(pid), command: (tryRead(`${proc}/${pid}/comm`) ?? '').trim()});
    }
    if (found.size === inodes.size) break;
  }
  return found;
}

/** Every TCP port something listens on here, with its holder when /proc tells; empty off Linux. */
export async function readListeners(proc = '/proc'): Promise<PortHolder[]> {
  const sockets = [...parseProcNetTcp(tryRead(`${proc}/net/tcp`) ?? ''), ...parseProcNetTcp(tryRead(`${proc}/net/tcp6`) ?? '')];
  const holders = findHolders(new Set(sockets.map((s) => s.inode).filter((i) => i > 0)), proc);
  return sockets.map((s) => {
    const h = holders.get(s.inode);
    return {port: s.port, address: s.address, ...(h ? {pid: h.pid, command: h.command} : {})};
  });
}
