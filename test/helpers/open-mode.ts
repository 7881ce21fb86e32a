/**
 * Test hubs run without keys (auth has its own tests). On NATS a keyless hub refuses to start unless
 * open mode is asked for, so every helper that starts a hub, or builds its settings, asks for it here;
 * a test about the refusal overrides it with `HUB_ALLOW_OPEN: ''`.
 */
export const OPEN_ON_PURPOSE = { HUB_ALLOW_OPEN: '1' } as const;
