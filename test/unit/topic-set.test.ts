import { describe, expect, it } from 'vitest';
import { HubError } from '../../src/errors.js';
import { planTopicChange } from '../../src/hub/topic-set.js';

describe('planTopicChange', () => {
  it('adds what is not held, removes what is, keeps the order of what stays', () => {
    expect(planTopicChange(['a', 'b', 'c'], ['d', 'a', 'd'], ['b', 'x'], 16)).toEqual({ added: ['d'], removed: ['b'], next: ['a', 'c', 'd'] });
  });

  it('a topic both added and removed is removed', () => {
    expect(planTopicChange(['a'], ['b'], ['b'], 16)).toEqual({ added: [], removed: [], next: ['a'] });
  });

  it('refuses an empty set and more than the maximum, counting the new set', () => {
    expect(planTopicChange(['a'], [], ['a'], 16)).toMatchObject({ code: 'no_topic' });
    expect(planTopicChange(['a', 'b'], ['c'], [], 2)).toMatchObject({ code: 'too_many_topics' });
    expect(planTopicChange(['a', 'b'], ['c'], ['a'], 2)).not.toBeInstanceOf(HubError);
  });
});
