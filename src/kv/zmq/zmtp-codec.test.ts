import {describe, expect, it} from 'vitest';
import {
  GREETING_SIZE,
  type ZmtpItem,
  ZmtpDecoder,
  ZmtpProtocolError,
  encodeCommand,
  encodeFrame,
  encodeGreeting,
  encodeMessage,
  encodeProperties,
  encodeReady,
  encodeSubscribe,
  parseGreeting,
  parseProperties,
} from './zmtp-codec.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Feeds `wire` to a fresh decoder in chunks of `step` bytes. */
function decodeInSteps(wire: Buffer, step: number): ZmtpItem[] {
  const d = new ZmtpDecoder();
  const out: ZmtpItem[] = [];
  for (let i = 0; i < wire.length; i += step) out.push(...d.push(wire.subarray(i, i + step)));
  return out;
}

describe('ZMTP encoding', () => {
  it('writes the 3.0 greeting byte for byte: signature, version, NULL mechanism, as-server 0, filler', () => {
    const g = encodeGreeting();
    expect(g.length).toBe(GREETING_SIZE);
    expect(hex(g.subarray(0, 12))).toBe(`ff${'00'.repeat(8)}7f0300`);
    expect(hex(g.subarray(12, 32))).toBe(`4e554c4c${'00'.repeat(16)}`);
    expect(hex(g.subarray(32))).toBe('00'.repeat(32));
    expect(parseGreeting(encodeGreeting(1))).toEqual({major: 3, minor: 1, mechanism: 'NULL', asServer: false});
  });

  it('uses the short form up to 255 bytes and the 8-byte long form above, with MORE and COMMAND flags', () => {
    expect(hex(encodeFrame(Buffer.from('ab')))).toBe('00026162');
    expect(hex(encodeFrame(Buffer.from('ab'), true))).toBe('01026162');
    expect(hex(encodeFrame(Buffer.alloc(255), false).subarray(0, 2))).toBe('00ff');
    const long = encodeFrame(Buffer.alloc(256, 9), true);
    expect(hex(long.subarray(0, 9))).toBe('030000000000000100');
    expect(long.length).toBe(9 + 256);
    expect(hex(encodeFrame(Buffer.alloc(300), false, true).subarray(0, 9))).toBe('06000000000000012c');
    expect(hex(encodeMessage(['k', Buffer.alloc(0), 'v']))).toBe('01016b' + '0100' + '000176');
  });

  it('writes READY with Socket-Type (and an empty Identity for DEALER), and 3.0 subscriptions', () => {
    // 04 = command; 19 bytes: name length 5, "READY", then the property "Socket-Type" = "SUB".
    expect(hex(encodeReady('SUB'))).toBe('0419' + '055245414459' + '0b536f636b65742d54797065' + '00000003' + '535542');
    const dealer = parseProperties(encodeReady('DEALER').subarray(2 + 6));
    expect([...dealer]).toEqual([
      ['socket-type', Buffer.from('DEALER')],
      ['identity', Buffer.alloc(0)],
    ]);
    expect(hex(encodeSubscribe('kv'))).toBe('0003016b76');
    expect(hex(encodeSubscribe(''))).toBe('000101');
  });
});

describe('ZMTP decoding', () => {
  const long = Buffer.alloc(70_000, 7);
  const wire = Buffer.concat([
    encodeGreeting(),
    encodeCommand('READY', encodeProperties({'Socket-Type': 'PUB'})),
    encodeMessage(['kv-events', Buffer.alloc(8), long]),
    encodeMessage(['x']),
    encodeCommand('PING', Buffer.from([0, 10, 1, 2])),
    encodeMessage([Buffer.alloc(0), Buffer.alloc(300, 1)]),
  ]);

  it('gives the same items however the stream is split: byte by byte, mid-header, or all at once', () => {
    for (const step of [1, 2, 7, 63, 64, 65, 1000, 65_536, wire.length]) {
      const items = decodeInSteps(wire, step);
      expect(items.map((i) => i.kind)).toEqual(['greeting', 'command', 'message', 'message', 'command', 'message']);
      expect(items[0]).toEqual({kind: 'greeting', greeting: {major: 3, minor: 0, mechanism: 'NULL', asServer: false}});
      const ready = items[1] as {name: string; data: Buffer};
      expect(ready.name).toBe('READY');
      expect(parseProperties(ready.data).get('socket-type')!.toString()).toBe('PUB');
      const m = items[2] as {frames: Buffer[]};
      expect(m.frames.map((f) => f.length)).toEqual([9, 8, 70_000]);
      expect(m.frames[0]!.toString()).toBe('kv-events');
      expect(m.frames[2]!.equals(long)).toBe(true);
      expect((items[3] as {frames: Buffer[]}).frames.map(String)).toEqual(['x']);
      expect(items[4]).toMatchObject({kind: 'command', name: 'PING', data: Buffer.from([0, 10, 1, 2])});
      expect((items[5] as {frames: Buffer[]}).frames.map((f) => f.length)).toEqual([0, 300]);
    }
  });

  it('keeps frames intact when the caller reuses its chunk buffer', () => {
    const d = new ZmtpDecoder();
    const chunk = Buffer.concat([encodeGreeting(), encodeMessage(['abc'])]);
    const [, msg] = d.push(chunk) as [ZmtpItem, {frames: Buffer[]}];
    chunk.fill(0);
    expect(msg.frames[0]!.toString()).toBe('abc');
  });

  it('refuses peers that are not ZMTP 3, oversized frames and malformed properties', () => {
    expect(() => new ZmtpDecoder().push(Buffer.alloc(64, 0x41))).toThrow(ZmtpProtocolError);
    const v2 = encodeGreeting();
    v2[10] = 2;
    expect(() => new ZmtpDecoder().push(v2)).toThrow(/ZMTP 2\.x/);
    const huge = Buffer.concat([encodeGreeting(), Buffer.from('02ffffffffffffffff', 'hex')]);
    expect(() => new ZmtpDecoder().push(huge)).toThrow(/over the/);
    expect(() => new ZmtpDecoder(100).push(Buffer.concat([encodeGreeting(), encodeFrame(Buffer.alloc(101))]))).toThrow(/over the 100-byte limit/);
    expect(() => parseProperties(Buffer.from('0b536f636b65742d547970650000000a535542', 'hex'))).toThrow(ZmtpProtocolError);
    expect(() => new ZmtpDecoder().push(Buffer.concat([encodeGreeting(), Buffer.from('040109', 'hex')]))).toThrow(/truncated name/);
  });

  it('reads a CURVE greeting so the socket can refuse it by name', () => {
    const g = encodeGreeting();
    g.write('CURVE\0\0\0', 12, 'ascii');
    g[32] = 1;
    expect(parseGreeting(g)).toEqual({major: 3, minor: 0, mechanism: 'CURVE', asServer: true});
  });
});
