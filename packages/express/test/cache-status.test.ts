import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import express from 'express';
import { type Item, parseList, Token } from 'structured-headers';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { cacheStatus, responseCache } from '../src/response-cache';

/** Cache-Status parsed as the RFC 8941 list it must be: [cache id, parameters] of larder's item. */
function larderEntry(header: string | undefined): { id: string; params: Record<string, unknown> } {
  expect(header).toBeDefined();
  const list = parseList(header as string) as Item[];
  expect(list).toHaveLength(1);
  const [value, params] = list[0] as Item;
  // Tokens (the cache id, fwd's reason) must parse as tokens, not strings.
  expect(value).toBeInstanceOf(Token);
  const plain = [...params].map(([name, v]) => {
    if (name === 'fwd') expect(v).toBeInstanceOf(Token);
    return [name, v instanceof Token ? v.toString() : v];
  });
  return { id: String(value), params: Object.fromEntries(plain) };
}

function app() {
  const cache = new Cache({ store: createMemoryStore(), prefix: 'cs' });
  const rc = responseCache({ cache, ttl: '1m' });
  const server = express();
  let release: (() => void) | undefined;
  server.get('/page', rc, (_req, res) => {
    res.send('page');
  });
  server.get('/cookie', rc, (_req, res) => {
    res.cookie('a', 'b').send('with a cookie');
  });
  server.get('/vary', rc, (_req, res) => {
    res.set('Vary', 'Accept-Language').send('varies');
  });
  server.get('/stream', rc, (_req, res) => {
    res.write('a');
    res.end('b');
  });
  server.get('/slow', rc, async (_req, res) => {
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    res.send('slow');
  });
  let misses = 0;
  cache.on('miss', () => {
    misses++;
  });
  return { server, release: () => release?.(), waiting: () => release !== undefined, misses: () => misses };
}

describe('Cache-Status (RFC 9211)', () => {
  it('builds the list member with its parameters', () => {
    expect(cacheStatus({ hit: true, ttl: 42.9 })).toBe('larder; hit; ttl=42');
    expect(cacheStatus({ fwd: 'uri-miss', stored: true })).toBe('larder; fwd=uri-miss; stored');
    expect(cacheStatus({ fwd: 'uri-miss', collapsed: true })).toBe('larder; fwd=uri-miss; collapsed');
  });

  it('says fwd=uri-miss; stored on a miss that is kept, then hit with the seconds of freshness left', async () => {
    const { server } = app();
    const miss = await request(server).get('/page');
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(larderEntry(miss.headers['cache-status'])).toEqual({
      id: 'larder',
      params: { fwd: 'uri-miss', stored: true },
    });
    let hit = await request(server).get('/page');
    for (let i = 0; i < 50 && hit.headers['x-cache'] !== 'HIT'; i++) hit = await request(server).get('/page');
    expect(hit.headers['x-cache']).toBe('HIT');
    const entry = larderEntry(hit.headers['cache-status']);
    expect(entry.params.hit).toBe(true);
    expect(entry.params.ttl).toBeGreaterThanOrEqual(58);
    expect(entry.params.ttl).toBeLessThanOrEqual(60);
    expect(entry.params.fwd).toBeUndefined();
  });

  it('does not say stored for a response that is not kept, nor for a streamed one', async () => {
    const { server } = app();
    const cookie = await request(server).get('/cookie');
    expect(larderEntry(cookie.headers['cache-status']).params).toEqual({ fwd: 'uri-miss' });
    const stream = await request(server).get('/stream');
    expect(larderEntry(stream.headers['cache-status']).params).toEqual({ fwd: 'uri-miss' });
  });

  it('says fwd=request when the request has Cache-Control: no-store', async () => {
    const { server } = app();
    const res = await request(server).get('/page').set('Cache-Control', 'no-store');
    expect(larderEntry(res.headers['cache-status']).params).toEqual({ fwd: 'request' });
  });

  it('says fwd=vary-miss for a new variant of a URL that varies', async () => {
    const { server } = app();
    await request(server).get('/vary').set('Accept-Language', 'en');
    let other = await request(server).get('/vary').set('Accept-Language', 'fr');
    // The first response's index is written after it is sent: wait until the second request sees it.
    for (let i = 0; i < 50 && other.headers['cache-status'] !== 'larder; fwd=vary-miss; stored'; i++) {
      other = await request(server).get('/vary').set('Accept-Language', `x${i}`);
    }
    expect(larderEntry(other.headers['cache-status']).params).toEqual({ fwd: 'vary-miss', stored: true });
  });

  it('marks requests that shared a concurrent miss as collapsed', async () => {
    const { server, release, waiting, misses } = app();
    const listening = server.listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    try {
      const first = request(listening)
        .get('/slow')
        .then((r) => r);
      for (let i = 0; i < 200 && !waiting(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
      const second = request(listening)
        .get('/slow')
        .then((r) => r);
      // The follower has to reach the flight before the leader finishes: its cache read missed, then it joins.
      for (let i = 0; i < 200 && misses() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setImmediate(resolve));
      release();
      const [a, b] = await Promise.all([first, second]);
      expect(larderEntry(a.headers['cache-status']).params).toEqual({ fwd: 'uri-miss', stored: true });
      expect(larderEntry(b.headers['cache-status']).params).toEqual({ fwd: 'uri-miss', collapsed: true });
      expect(b.text).toBe('slow');
    } finally {
      listening.close();
    }
  });
});
