export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One JSON line per event on stderr: machine-readable, and stdout stays free for command output. */
export class Logger {
  constructor(
    private readonly component: string,
    private readonly level: LogLevel = (process.env.FLOWMESH_LOG_LEVEL as LogLevel) || 'info',
  ) {}

  child(component: string): Logger {
    return new Logger(`${this.component}.${component}`, this.level);
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (order[level] < (order[this.level] ?? 20)) return;
    process.stderr.write(JSON.stringify({ t: new Date().toISOString(), level, component: this.component, msg, ...fields }) + '\n');
  }
}
