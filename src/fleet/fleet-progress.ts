// Progress of many RECs at once: every REC's step lines, each prefixed with namespace/rec, in plain mode
// (a live line per REC cannot share one terminal). Per-REC countdowns are left out; the fleet prints one
// summary line of its own now and then instead.
import { Writable } from 'node:stream';
import { Progress } from '../output/progress.js';

class RecProgress extends Progress {
  override waiting(): void {
    // Countdowns of a hundred RECs would drown the state changes.
  }
}

function prefixed(prefix: string, out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString('utf8').replaceAll('\r\x1b[K', '');
      const lines = text.split('\n');
      const last = lines.pop();
      out.write(lines.map((l) => (l ? `${prefix} ${l}\n` : '\n')).join('') + (last ? `${prefix} ${last}` : ''));
      done();
    },
  });
}

export function recProgress(quiet: boolean, label: string, out: NodeJS.WritableStream = process.stderr): Progress {
  return new RecProgress(quiet ? 'quiet' : 'plain', prefixed(label, out));
}

export function fleetProgress(quiet: boolean, out: NodeJS.WritableStream = process.stderr): Progress {
  return new Progress(quiet ? 'quiet' : 'plain', out);
}
