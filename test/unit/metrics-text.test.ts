/** The tests' Prometheus text parser (test/helpers/metrics.ts): what the hub's assertions on /metrics rest on. */
import { describe, expect, it } from 'vitest';
import { metricValue, parseMetrics } from '../helpers/metrics.js';

const TEXT = [
  '# HELP ssehub_requests_rejected_total Requests refused, by error code.',
  '# TYPE ssehub_requests_rejected_total counter',
  'ssehub_requests_rejected_total{code="no_topic"} 6',
  'ssehub_requests_rejected_total{code="no_topic_x"} 60',
  'ssehub_requests_rejected_total{code="odd \\"quoted\\", a\\\\b, }"} 2',
  '# TYPE ssehub_publish_to_write_seconds histogram',
  'ssehub_publish_to_write_seconds_bucket{le="0.001"} 3',
  'ssehub_publish_to_write_seconds_bucket{le="+Inf"} 4',
  'ssehub_publish_to_write_seconds_sum 0.0021',
  'ssehub_publish_to_write_seconds_count 4',
  'ssehub_two_labels{a="1",b="2",} 7 1700000000000',
  'ssehub_connections 0',
  'ssehub_gauge_inf +Inf',
  'ssehub_gauge_nan Nan',
  '',
].join('\n');

describe('metrics text parser', () => {
  it('reads a sample by name and exact label set', () => {
    expect(metricValue(TEXT, 'ssehub_requests_rejected_total', { code: 'no_topic' })).toBe(6);
    expect(metricValue(TEXT, 'ssehub_requests_rejected_total', { code: 'no_topic_x' })).toBe(60);
    expect(metricValue(TEXT, 'ssehub_publish_to_write_seconds_bucket', { le: '+Inf' })).toBe(4);
    expect(metricValue(TEXT, 'ssehub_publish_to_write_seconds_count')).toBe(4);
    expect(metricValue(TEXT, 'ssehub_publish_to_write_seconds_sum')).toBe(0.0021);
    expect(metricValue(TEXT, 'ssehub_connections')).toBe(0);
    expect(metricValue(TEXT, 'ssehub_gauge_inf')).toBe(Infinity);
    expect(metricValue(TEXT, 'ssehub_gauge_nan')).toBeNaN();
  });

  it('unescapes label values and takes a trailing comma and a timestamp', () => {
    expect(metricValue(TEXT, 'ssehub_requests_rejected_total', { code: 'odd "quoted", a\\b, }' })).toBe(2);
    expect(metricValue(TEXT, 'ssehub_two_labels', { b: '2', a: '1' })).toBe(7);
  });

  it('finds nothing for a missing name, a partial or a larger label set, or a name that is only a prefix', () => {
    expect(metricValue(TEXT, 'ssehub_nope')).toBeUndefined();
    expect(metricValue(TEXT, 'ssehub_requests_rejected_total')).toBeUndefined();
    expect(metricValue(TEXT, 'ssehub_two_labels', { a: '1' })).toBeUndefined();
    expect(metricValue(TEXT, 'ssehub_requests_rejected_total', { code: 'no_topic', extra: 'x' })).toBeUndefined();
    expect(metricValue(TEXT, 'ssehub_publish_to_write_seconds')).toBeUndefined();
  });

  it('collects each family type and refuses a line that is not a sample', () => {
    expect(parseMetrics(TEXT).types).toEqual(new Map([['ssehub_requests_rejected_total', 'counter'], ['ssehub_publish_to_write_seconds', 'histogram']]));
    expect(() => parseMetrics('ssehub_x{code="a} 1')).toThrow(/not a Prometheus sample line|bad labels/);
    expect(() => parseMetrics('ssehub_x{code=a} 1')).toThrow(/bad labels/);
    expect(() => parseMetrics('ssehub_x one')).toThrow(/bad value/);
  });
});
