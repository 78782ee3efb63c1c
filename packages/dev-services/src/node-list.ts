import type { EmulatedNode } from './elasticache-emulator';

/** Parses `host:port` or `host|ip|port` entries separated by commas or spaces. */
export function parseNodeList(text: string): EmulatedNode[] {
  return text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((entry) => {
      const pipe = entry.split('|');
      if (pipe.length === 3) return { host: pipe[0]!, ip: pipe[1]!, port: Number(pipe[2]) };
      const idx = entry.lastIndexOf(':');
      if (idx <= 0) throw new Error(`bad node '${entry}': expected host:port or host|ip|port`);
      return { host: entry.slice(0, idx), port: Number(entry.slice(idx + 1)) };
    })
    .map((node) => {
      if (!Number.isInteger(node.port) || node.port <= 0 || node.port > 65535) {
        throw new Error(`bad port in node '${node.host}:${node.port}'`);
      }
      return node;
    });
}
