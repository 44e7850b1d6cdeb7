import { describe, expect, it } from 'vitest';
import { hostPolicy } from '../../src/http/guard.js';
import { bindWarnings } from '../../src/http/server.js';
import { parseAddress } from '../../src/cli/http.js';

describe('where the server listens, and what it answers to', () => {
  it('accepts only loopback names on loopback, the named hosts elsewhere', () => {
    expect(hostPolicy('127.0.0.1').hosts).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(hostPolicy('::1', ['Team.Example.com']).hosts).toEqual(['localhost', '127.0.0.1', '[::1]', 'team.example.com']);
    expect(hostPolicy('0.0.0.0', ['team.example.com'])).toEqual({ hosts: ['team.example.com'], origins: ['team.example.com'] });
    expect(hostPolicy('10.0.0.5').hosts).toEqual(['10.0.0.5']);
    expect(hostPolicy('0.0.0.0').hosts).toBeUndefined();
    expect(hostPolicy('127.0.0.1', [], ['https://dash.example.com']).origins).toContain('dash.example.com');
  });

  it('warns about plain HTTP beyond loopback unless TLS is terminated upstream, and about an unchecked Host', () => {
    expect(bindWarnings('127.0.0.1', hostPolicy('127.0.0.1'))).toEqual([]);
    expect(bindWarnings('10.0.0.5', hostPolicy('10.0.0.5'))).toEqual([expect.stringMatching(/^serving plain HTTP on 10\.0\.0\.5: .*--tls-terminated-upstream/)]);
    expect(bindWarnings('10.0.0.5', hostPolicy('10.0.0.5'), true)).toEqual([]);
    expect(bindWarnings('0.0.0.0', hostPolicy('0.0.0.0'), true)).toEqual([expect.stringMatching(/without --allowed-host: the Host header is not checked/)]);
  });

  it('reads [HOST:]PORT', () => {
    expect(parseAddress('7420')).toEqual({ host: '127.0.0.1', port: 7420 });
    expect(parseAddress('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseAddress('localhost:99999')).toThrow(/expected \[HOST:\]PORT/);
    expect(() => parseAddress('http://x:1')).toThrow(/expected \[HOST:\]PORT/);
  });
});
