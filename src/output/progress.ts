// What the user sees while a procedure runs, on stderr so stdout stays for the result:
// a live line with elapsed time and countdowns on a terminal, one plain line per step elsewhere
// (CI logs stay readable), nothing with --quiet.
import { formatDuration } from '../duration/duration.js';
import { redactor } from './redactor.js';

export interface StepRecord {
  name: string;
  status: 'done' | 'skipped' | 'failed' | 'running';
  startedAt: string;
  durationMs: number;
  detail?: string;
}

export type ProgressMode = 'live' | 'plain' | 'quiet';

export class Progress {
  readonly steps: StepRecord[] = [];
  private liveLine = false;
  private current: { record: StepRecord; started: number } | undefined;

  constructor(
    private readonly mode: ProgressMode,
    private readonly out: NodeJS.WritableStream = process.stderr,
    private readonly color = false,
  ) {}

  static forStream(quiet: boolean, noColor: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
    // @types/node says boolean, but a stream that is not a terminal (a pipe, a file) has no isTTY at all.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion
    const tty = Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
    return new Progress(quiet ? 'quiet' : tty ? 'live' : 'plain', stream, tty && !noColor && !process.env.NO_COLOR);
  }

  begin(name: string): void {
    const record: StepRecord = { name, status: 'running', startedAt: new Date().toISOString(), durationMs: 0 };
    this.steps.push(record);
    this.current = { record, started: Date.now() };
    if (this.mode === 'live') this.live(`${this.paint('36', '…')} ${name}`);
  }

  end(status: 'done' | 'skipped' | 'failed', detail?: string): void {
    const cur = this.current;
    if (!cur) return;
    cur.record.status = status;
    cur.record.durationMs = Date.now() - cur.started;
    if (detail) cur.record.detail = redactor.scrub(detail);
    this.current = undefined;
    const mark = status === 'done' ? this.paint('32', '✓') : status === 'skipped' ? this.paint('90', '-') : this.paint('31', '✗');
    const plainMark = status === 'done' ? 'ok' : status === 'skipped' ? 'skipped' : 'FAILED';
    const suffix = `${detail ? ` (${redactor.scrub(detail)})` : ''} ${formatDuration(cur.record.durationMs)}`;
    if (this.mode === 'live') this.line(`${mark} ${cur.record.name}${suffix}`);
    else if (this.mode === 'plain') this.line(`[${plainMark}] ${cur.record.name}${suffix}`);
  }

  async step<T>(name: string, run: () => T | Promise<T>, detail?: (result: T) => string | undefined): Promise<T> {
    this.begin(name);
    try {
      const result = await run();
      this.end('done', detail?.(result));
      return result;
    } catch (err) {
      this.end('failed');
      throw err;
    }
  }

  skip(name: string, why: string): void {
    this.begin(name);
    this.end('skipped', why);
  }

  /** A wait's state: rewritten in place on a terminal, printed every `plainEveryMs` elsewhere. */
  private lastPlain = 0;
  waiting(text: string, plainEveryMs = 10_000): void {
    const t = redactor.scrub(text);
    if (this.mode === 'live') this.live(`${this.paint('36', '…')} ${t}`);
    else if (this.mode === 'plain' && Date.now() - this.lastPlain >= plainEveryMs) {
      this.lastPlain = Date.now();
      this.line(`      ${t}`);
    }
  }

  note(text: string): void {
    if (this.mode !== 'quiet') this.line(redactor.scrub(text));
  }

  private live(text: string): void {
    this.out.write(`\r\x1b[K${text}`);
    this.liveLine = true;
  }

  private line(text: string): void {
    if (this.liveLine) this.out.write('\r\x1b[K');
    this.liveLine = false;
    this.out.write(`${text}\n`);
  }

  private paint(code: string, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
}
