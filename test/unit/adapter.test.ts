import { describe, expect, it } from 'vitest';
import { isNoScriptError, isRedisClient, rawClientKind } from '../../src/adapter.js';

/** src/adapter.ts: what counts as an adapter, which raw client was passed instead, and NOSCRIPT. */
const fn = () => undefined;

describe('isRedisClient', () => {
  it('takes an object with an `exec` function and a string `endpoint`', () => {
    expect(isRedisClient({ endpoint: 'a:1', exec: fn })).toBe(true);
    expect(isRedisClient({ endpoint: '', exec: fn })).toBe(true);
  });

  it('refuses anything else', () => {
    for (const value of [
      null,
      undefined,
      'a:1',
      fn,
      { endpoint: 'a:1' },
      { exec: fn },
      { endpoint: 1, exec: fn },
      { endpoint: 'a:1', exec: 'exec' },
    ]) {
      expect(isRedisClient(value)).toBe(false);
    }
  });
});

describe('rawClientKind', () => {
  it('names GLIDE, ioredis and node-redis by their methods', () => {
    expect(rawClientKind({ customCommand: fn, exec: fn })).toBe('glide');
    expect(rawClientKind({ defineCommand: fn, pipeline: fn })).toBe('ioredis');
    expect(rawClientKind({ sendCommand: fn, isOpen: false })).toBe('node-redis');
    expect(rawClientKind({ sendCommand: fn, isReady: false })).toBe('node-redis');
  });

  it('names nothing without every method of one client', () => {
    for (const value of [
      null,
      undefined,
      'client',
      {},
      { customCommand: fn },
      { exec: fn },
      { customCommand: 1, exec: fn },
      { customCommand: fn, exec: 1 },
      { defineCommand: fn },
      { pipeline: fn },
      { defineCommand: 1, pipeline: fn },
      { defineCommand: fn, pipeline: 1 },
      { sendCommand: fn },
      { isOpen: true, isReady: true },
      { sendCommand: 1, isOpen: true },
    ]) {
      expect(rawClientKind(value)).toBe(undefined);
    }
  });
});

describe('isNoScriptError', () => {
  it('recognises a NOSCRIPT error reply, in the words of Redis or of GLIDE', () => {
    expect(isNoScriptError(new Error('NOSCRIPT No matching script. Please use EVAL.'))).toBe(true);
    expect(
      isNoScriptError(new Error('An error was signalled by the server: - NoScriptError: No matching script')),
    ).toBe(true);
  });

  it('and nothing else', () => {
    expect(isNoScriptError(new Error('ERR unknown command'))).toBe(false);
    expect(isNoScriptError(new Error('ERR NOSCRIPT later in the message'))).toBe(false);
    expect(isNoScriptError('NOSCRIPT No matching script')).toBe(false);
    expect(isNoScriptError({ message: 'NOSCRIPT' })).toBe(false);
  });
});
