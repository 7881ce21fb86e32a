/** What the JetStream bus is configured with; its own file so every part of the bus can read it. */
export interface JetStreamSettings {
  readonly stream: string;
  /** `<prefix>.>`: the subjects the stream holds. */
  readonly subjects: string;
  readonly maxMsgs: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly replicas: number;
  readonly storage: 'file' | 'memory';
  readonly duplicateWindowMs: number;
  /** How long a publish waits for JetStream's acknowledgement before it counts as failed. */
  readonly publishTimeoutMs: number;
}
