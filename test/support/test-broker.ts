/** The shape every MQTT broker a test starts has (mosquitto.ts, aedes.ts), so suites run against either. */

export interface TestBrokerOptions {
  /** When given, only these username/password pairs may connect (anonymous clients are refused). */
  readonly users?: Readonly<Record<string, string>>;
  /**
   * mosquitto: log errors and warnings only, instead of every packet (what tests read when they fail).
   * For benches: a log line per packet costs the broker and the process reading its log.
   */
  readonly quiet?: boolean;
}

export interface TestBroker {
  /** Which implementation, for test names. */
  readonly kind: string;
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  /**
   * Takes the broker down: stops listening and drops every connection. Persistent sessions
   * (clean=false) and their queued QoS 1 messages survive until `start()`.
   */
  stop(): Promise<void>;
  /** Brings the broker back on the same port after `stop()`; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and removes what it left behind (temp files). */
  dispose(): Promise<void>;
}
