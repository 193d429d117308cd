// http.debug as distribution reads it, and the debug listener's health answer when a check fails.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { defaultConfig, loadConfig } from '../../src/config/index.ts';
import { startDebugServer } from '../../src/http/debug-server.ts';
import { HealthMonitor } from '../../src/http/health.ts';
import type { RegistryServices } from '../../src/registry/services.ts';

const load = (yaml: string, env: Record<string, string> = {}) => loadConfig({ text: `version: 0.1\n${yaml}`, env });

describe('http.debug', () => {
  it('takes addr and prometheus.{enabled,path} without a warning; the path defaults to /metrics', () => {
    const { config, warnings } = load('http:\n  debug: {addr: ":5001", prometheus: {enabled: true}}');
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.http.debug, { addr: ':5001', prometheus: { enabled: true, path: '/metrics' } });
    const custom = load('http:\n  debug: {addr: "127.0.0.1:9090", prometheus: {enabled: true, path: /prom}}').config;
    assert.equal(custom.http.debug?.prometheus.path, '/prom');
    assert.deepEqual(load('http:\n  debug: {addr: ":5001"}').config.http.debug, { addr: ':5001', prometheus: { enabled: false, path: '/metrics' } });
  });

  it('reads REGISTRY_HTTP_DEBUG_* from the environment, as distribution', () => {
    const { config, warnings } = load('', { REGISTRY_HTTP_DEBUG_ADDR: ':5001', REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED: 'true', REGISTRY_HTTP_DEBUG_PROMETHEUS_PATH: '/m' });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.http.debug, { addr: ':5001', prometheus: { enabled: true, path: '/m' } });
  });

  it('warns that prometheus.enabled does nothing without addr (no listener, as distribution)', () => {
    const { config, warnings } = load('http:\n  debug: {prometheus: {enabled: true}}');
    assert.equal(config.http.debug, undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^http\.debug\.prometheus\.enabled has no effect without http\.debug\.addr/);
  });

  it('examples/metrics.yml loads without a warning and turns the metrics on', () => {
    const { config, warnings } = loadConfig({ path: fileURLToPath(new URL('../../examples/metrics.yml', import.meta.url)), env: {} });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.http.debug, { addr: '127.0.0.1:5001', prometheus: { enabled: true, path: '/metrics' } });
    assert.equal(config.health.storagedriver.enabled, true);
  });

  it('refuses a malformed address or path', () => {
    assert.throws(() => load('http:\n  debug: {addr: "5001"}'), /http\.debug\.addr/);
    assert.throws(() => load('http:\n  debug: {addr: ":5001", prometheus: {path: metrics}}'), /http\.debug\.prometheus\.path/);
  });
});

describe('the debug listener', () => {
  it('answers /debug/health with 503 and the failing checks under distribution names, then 200 {} once they pass', async () => {
    let failing = true;
    const log = pino({ level: 'silent' });
    const health = new HealthMonitor(
      [
        {
          name: 'storagedriver',
          check: async () => {
            if (failing) throw new Error('disk gone');
          },
        },
        { name: 'metadata', check: async () => undefined },
      ],
      { intervalMs: 60_000, threshold: 1 },
      log,
    );
    await health.runOnce();
    const config = defaultConfig();
    config.http.debug = { addr: '127.0.0.1:0', prometheus: { enabled: false, path: '/metrics' } };
    const services = { config, blobs: { driverName: 'filesystem' } } as unknown as RegistryServices;
    const server = (await startDebugServer(config, services, health, log))!;
    try {
      let res = await fetch(`${server.url}/debug/health`);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { storagedriver_filesystem: 'disk gone' });
      failing = false;
      await health.runOnce();
      res = await fetch(`${server.url}/debug/health`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {});
      // Prometheus not enabled: no metrics path.
      res = await fetch(`${server.url}/metrics`);
      await res.arrayBuffer();
      assert.equal(res.status, 404);
    } finally {
      await server.close();
    }
  });

  it('fails the start with the address in the message when the port is taken', async () => {
    const log = pino({ level: 'silent' });
    const health = new HealthMonitor([], { intervalMs: 60_000, threshold: 1 }, log);
    const config = defaultConfig();
    config.http.debug = { addr: '127.0.0.1:0', prometheus: { enabled: false, path: '/metrics' } };
    const services = { config, blobs: { driverName: 'filesystem' } } as unknown as RegistryServices;
    const first = (await startDebugServer(config, services, health, log))!;
    try {
      const taken = { ...config, http: { ...config.http, debug: { addr: first.url.replace('http://', ''), prometheus: { enabled: false, path: '/metrics' } } } };
      await assert.rejects(startDebugServer(taken, services, health, log), /http\.debug\.addr 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
