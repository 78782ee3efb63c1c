import { describe, expect, it } from 'vitest';
import { DiscoveryParseError, parseCompleteConfigResponse, parseConfigResponse } from '../src/discovery/parse-config';

const payload =
  '12\nmyCluster.pc4ldq.0001.use1.cache.amazonaws.com|10.82.235.120|11211 myCluster.pc4ldq.0002.use1.cache.amazonaws.com|10.80.249.27|11211\n';
const answer = `CONFIG cluster 0 ${Buffer.byteLength(payload)}\r\n${payload}\r\nEND\r\n`;

describe('parseConfigResponse', () => {
  it('parses an AWS-shaped answer byte for byte', () => {
    expect(parseConfigResponse(answer)).toEqual({
      kind: 'config',
      config: {
        version: 12,
        nodes: [
          { host: 'myCluster.pc4ldq.0001.use1.cache.amazonaws.com', ip: '10.82.235.120', port: 11211 },
          { host: 'myCluster.pc4ldq.0002.use1.cache.amazonaws.com', ip: '10.80.249.27', port: 11211 },
        ],
      },
    });
  });

  it('accepts an empty ip (host||port) and a single node', () => {
    const p = '3\nlocalhost||21211\n';
    const result = parseConfigResponse(`CONFIG cluster 0 ${p.length}\r\n${p}\r\nEND\r\n`);
    expect(result).toEqual({
      kind: 'config',
      config: { version: 3, nodes: [{ host: 'localhost', ip: '', port: 21211 }] },
    });
  });

  it('parses the legacy VALUE AmazonElastiCache:cluster answer', () => {
    const result = parseConfigResponse(
      `VALUE AmazonElastiCache:cluster 0 ${Buffer.byteLength(payload)}\r\n${payload}\r\nEND\r\n`,
    );
    expect(result.kind === 'config' && result.config.version).toBe(12);
  });

  it('reports a plain memcached (ERROR) and a missing legacy key (END)', () => {
    expect(parseConfigResponse('ERROR\r\n')).toEqual({ kind: 'not-a-config-endpoint', answer: 'ERROR' });
    expect(parseConfigResponse('END\r\n')).toEqual({ kind: 'not-a-config-endpoint', answer: 'END' });
  });

  it('waits for more bytes on every prefix of a valid answer', () => {
    for (let i = 0; i < answer.length; i++) {
      expect(parseConfigResponse(answer.slice(0, i)).kind).toBe('incomplete');
    }
  });

  it('reads exactly <bytes> of a multi-node payload (empty ip included)', () => {
    const multi = '5\na|1.1.1.1|1 b|2.2.2.2|2 c||3\n';
    const result = parseConfigResponse(Buffer.from(`CONFIG cluster 0 ${multi.length}\r\n${multi}\r\nEND\r\n`));
    expect(result.kind === 'config' && result.config.nodes.map((n) => n.port)).toEqual([1, 2, 3]);
  });

  const malformed: [string, string][] = [
    ['garbage', 'HELLO THERE\r\n'],
    ['garbage without newline', 'xyz'],
    ['byte count too small', `CONFIG cluster 0 ${Buffer.byteLength(payload) - 5}\r\n${payload}\r\nEND\r\n`],
    ['byte count too large', `CONFIG cluster 0 ${Buffer.byteLength(payload) + 40}\r\n${payload}\r\nEND\r\n`],
    ['non-numeric byte count', `CONFIG cluster 0 abc\r\n${payload}\r\nEND\r\n`],
    ['bad version', 'CONFIG cluster 0 12\r\nv1\na||11211\n\r\nEND\r\n'],
    ['node without port', 'CONFIG cluster 0 10\r\n1\na|b|xy\n\r\nEND\r\n'],
    ['node with two fields', 'CONFIG cluster 0 11\r\n1\na|11211\n\r\nEND\r\n'],
    ['port out of range', 'CONFIG cluster 0 14\r\n1\na||700000\n\r\nEND\r\n'],
    ['empty node list', 'CONFIG cluster 0 3\r\n1\n\n\r\nEND\r\n'],
    ['no version line', 'CONFIG cluster 0 5\r\nabcde\r\nEND\r\n'],
    ['trailing bytes after END', `${answer}junk`],
    ['server error', 'SERVER_ERROR out of memory\r\n'],
  ];
  for (const [name, text] of malformed) {
    it(`throws DiscoveryParseError on ${name}`, () => {
      expect(() => parseCompleteConfigResponse(text)).toThrow(DiscoveryParseError);
    });
  }

  it('reports a truncated answer as a typed error once the stream ended', () => {
    const error = (() => {
      try {
        parseCompleteConfigResponse(answer.slice(0, 60));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DiscoveryParseError);
    expect((error as DiscoveryParseError).message).toMatch(/truncated/);
    expect((error as DiscoveryParseError).code).toBe('E_DISCOVERY_PARSE');
  });

  it('never throws anything but DiscoveryParseError on random bytes', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 500; i++) {
      const bytes = Buffer.from(Array.from({ length: random() % 80 }, () => random() % 256));
      const input = i % 2 ? Buffer.concat([Buffer.from('CONFIG cluster 0 9\r\n'), bytes]) : bytes;
      try {
        parseCompleteConfigResponse(input);
      } catch (error) {
        expect(error).toBeInstanceOf(DiscoveryParseError);
      }
    }
  });
});
