/*
 * The snap-in's configuration, read from the event DevRev hands a function: the organization inputs
 * (`input_data.global_values`), the feed token from the `sift_feed_token` connection (keyring), and
 * the DevRev endpoint and service-account token of this installation.
 */

export const KEYRING = 'sift_feed_token';

/**
 * Input names, as declared in manifest.yaml. The two cursors are hidden: the snap-in's own state.
 * (The hidden `watched_competitors` input is no longer read: /competitors shows the flow's own list.)
 */
export const INPUT = {
  feedUrl: 'feed_url',
  appId: 'app_id',
  part: 'part',
  owner: 'owner',
  ticketCursor: 'ticket_cursor',
  featureTicketCursor: 'feature_ticket_cursor',
} as const;

/** The part of a snap-in function's event this snap-in reads. */
export interface FunctionEvent {
  payload?: Record<string, unknown>;
  context?: {
    dev_oid?: string;
    snap_in_id?: string;
    source_id?: string;
    secrets?: Record<string, string | undefined>;
  };
  execution_metadata?: {
    devrev_endpoint?: string;
    event_type?: string;
    function_name?: string;
    request_id?: string;
  };
  input_data?: {
    global_values?: Record<string, unknown> | null;
    keyrings?: Record<string, unknown> | null;
    resources?: { keyrings?: Record<string, { id?: string; secret?: string } | undefined> | null } | null;
  };
}

export interface Config {
  feedUrl: string;
  feedToken: string;
  appId: string;
  part: string;
  owner: string;
  devrevEndpoint: string;
  devrevToken: string;
  snapInId: string;
  /** Every input value as delivered, for saving them back with the snap-in's state changed. */
  inputs: Record<string, unknown>;
}

export class ConfigError extends Error {}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** The feed token: the connection's secret, as `keyrings[name]` or `resources.keyrings[name].secret`. */
function feedToken(event: FunctionEvent): string {
  const direct = event.input_data?.keyrings?.[KEYRING];
  if (typeof direct === 'string') return direct.trim();
  return text(event.input_data?.resources?.keyrings?.[KEYRING]?.secret);
}

/**
 * The configuration, or `ConfigError` naming everything that is missing. `need` lists what this
 * use of the snap-in cannot do without (the timers need a part and an owner to create works; the
 * commands need an app id).
 */
export function readConfig(event: FunctionEvent, need: Array<'part' | 'owner' | 'appId'> = []): Config {
  const inputs = { ...(event.input_data?.global_values ?? {}) };
  const config: Config = {
    feedUrl: text(inputs[INPUT.feedUrl]),
    feedToken: feedToken(event),
    appId: text(inputs[INPUT.appId]),
    part: text(inputs[INPUT.part]),
    owner: text(inputs[INPUT.owner]),
    devrevEndpoint: text(event.execution_metadata?.devrev_endpoint),
    devrevToken: text(event.context?.secrets?.service_account_token),
    snapInId: text(event.context?.snap_in_id),
    inputs,
  };
  const missing: string[] = [];
  if (!config.feedUrl) missing.push(`the ${INPUT.feedUrl} input`);
  else if (!/^https?:\/\/[^/\s]+/i.test(config.feedUrl)) {
    throw new ConfigError(`the ${INPUT.feedUrl} input ${JSON.stringify(config.feedUrl)} is not an http(s) URL`);
  }
  if (!config.feedToken) missing.push(`the ${KEYRING} connection`);
  if (need.includes('part') && !config.part) missing.push(`the ${INPUT.part} input`);
  if (need.includes('owner') && !config.owner) missing.push(`the ${INPUT.owner} input`);
  if (need.includes('appId') && !config.appId) missing.push(`the ${INPUT.appId} input`);
  if (!config.devrevEndpoint || !config.devrevToken) missing.push('the DevRev endpoint and service-account token of the event');
  if (missing.length) throw new ConfigError(`the snap-in is not configured: set ${missing.join(', ')}`);
  return config;
}

/** The snap-in's own state kept in a hidden input: a cursor, or '' for "from the beginning". */
export function stateValue(config: Config, name: string): string {
  return text(config.inputs[name]);
}
