// A fleet run on a terminal: one line per REC in flight (its step, or what its wait reports: per-pod
// propagation, the settle countdown) and a totals line, redrawn in place; lines that matter afterwards
// (a REC's end, a note) are printed above the board and stay. Off a terminal the fleet prints plain lines.
import { formatDuration } from '../duration/duration.js';
import { Progress } from '../output/progress.js';
import { redactor } from '../output/redactor.js';

interface Row {
  label: string;
  text: string;
}

const REDRAW_MS = 200;

export class FleetBoard {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;
  private done = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  // The elapsed time and countdowns move even when no REC reports anything.
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly command: string,
    private readonly total: number,
  ) {
    this.ticker = setInterval(() => this.schedule(), 1000);
    this.ticker.unref();
    this.draw();
  }

  /** On a terminal (not with --quiet, not TERM=dumb): a board; elsewhere none, and plain lines instead. */
  static forStream(quiet: boolean, command: string, total: number, stream: NodeJS.WriteStream = process.stderr): FleetBoard | undefined {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion
    const tty = Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
    return tty && !quiet ? new FleetBoard(stream, command, total) : undefined;
  }

  /** A REC's progress, shown on its row (and its notes above the board). */
  progressFor(label: string): Progress {
    return new BoardProgress(this, label);
  }

  set(label: string, text: string): void {
    this.rows.set(label, { label, text: redactor.scrub(text) });
    this.schedule();
  }

  /** A REC reached its end: its row goes, its last line stays above the board. */
  finish(label: string, line: string): void {
    this.rows.delete(label);
    this.done += 1;
    this.log(`${label} ${line}`);
  }

  /** A line printed above the board, for good. */
  log(line: string): void {
    this.clear();
    this.out.write(`${redactor.scrub(line)}\n`);
    this.draw();
  }

  close(): void {
    clearInterval(this.ticker);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.clear();
      this.draw();
    }, REDRAW_MS);
  }

  private clear(): void {
    // Back to the board's first line, then erase to the end of the screen.
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}F\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    const width = Math.max(40, (this.out.columns || 100) - 1);
    const fit = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
    const inFlight = [...this.rows.values()];
    const lines = [
      ...inFlight.map((r) => fit(`${r.label}  ${r.text}`)),
      fit(
        `${this.command}: ${this.done}/${this.total} done, ${inFlight.length} in flight, ${this.total - this.done - inFlight.length} not started (${formatDuration(Date.now() - this.started)})`,
      ),
    ];
    this.out.write(lines.map((l) => `${l}\n`).join(''));
    this.drawn = lines.length;
  }
}

/** Records its steps (the result needs them) and shows them on the board instead of printing them. */
class BoardProgress extends Progress {
  private stepName = '';

  constructor(
    private readonly board: FleetBoard,
    private readonly label: string,
  ) {
    super('quiet');
  }

  override begin(name: string): void {
    super.begin(name);
    this.stepName = name;
    this.board.set(this.label, name);
  }

  override waiting(text: string): void {
    this.board.set(this.label, `${this.stepName}: ${text}`);
  }

  override note(text: string): void {
    this.board.log(`${this.label} ${text}`);
  }
}
