/**
 * The JSON bodies of the control routes (POST /streams/<id>/topics, POST /users/<sub>/topics):
 * read with a bound, parsed, and their topic lists checked, before anything is asked of any node.
 */
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.js';
import { ErrorCode, HubError } from '../errors.js';
import { checkTopic } from '../topics/subject.js';
import { BodyLost, readBody } from './publish-body.js';

/** A topic change as a route takes it: prefix-relative topics, checked, duplicates kept out. */
export interface TopicChangeBody {
  readonly add: readonly string[];
  readonly remove: readonly string[];
  /** The body's other fields (the stream key). */
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * Room for both lists at their largest (HUB_MAX_TOPICS topics of HUB_MAX_TOPIC_LENGTH each, quoted
 * and separated) and a key: anything larger cannot be a valid change.
 */
export function topicChangeLimit(config: Pick<Config, 'maxTopics' | 'maxTopicLength'>): number {
  return 2 * config.maxTopics * (config.maxTopicLength + 4) + 1024;
}

export async function readTopicChange(incoming: IncomingMessage, config: Config): Promise<TopicChangeBody | HubError> {
  const text = await readText(incoming, topicChangeLimit(config));
  if (text instanceof HubError) return text;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return new HubError(ErrorCode.BadRequest, 'the body must be JSON: {"add": [topics], "remove": [topics]}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new HubError(ErrorCode.BadRequest, 'the body must be a JSON object: {"add": [topics], "remove": [topics]}');
  }
  const fields = value as Record<string, unknown>;
  const add = topicList(fields, 'add', config);
  if (add instanceof HubError) return add;
  const remove = topicList(fields, 'remove', config);
  if (remove instanceof HubError) return remove;
  if (add.length === 0 && remove.length === 0) return new HubError(ErrorCode.NoTopic, '"add" or "remove" must name at least one topic');
  return { add, remove, fields };
}

function topicList(fields: Readonly<Record<string, unknown>>, name: 'add' | 'remove', config: Config): string[] | HubError {
  const list = fields[name];
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every((topic) => typeof topic === 'string')) {
    return new HubError(ErrorCode.BadRequest, `"${name}" must be an array of topics`);
  }
  const unique = [...new Set(list as string[])];
  if (unique.length > config.maxTopics) return new HubError(ErrorCode.TooManyTopics, `"${name}" names ${unique.length} topics; a stream has at most ${config.maxTopics}`);
  for (const topic of unique) {
    const problem = checkTopic(topic, { maxLength: config.maxTopicLength, allowWildcards: true });
    if (problem) return problem;
  }
  return unique;
}

/** The body as text: publish's bounded reader, with a request that ended early as a 400. */
async function readText(incoming: IncomingMessage, limit: number): Promise<string | HubError> {
  const body = await readBody(incoming, limit, 'the body');
  if (body instanceof HubError) return body;
  if (body instanceof BodyLost) return new HubError(ErrorCode.BadRequest, 'the request ended before its body did');
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}
