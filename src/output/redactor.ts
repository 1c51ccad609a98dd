// Every text that leaves the process (errors, API bodies, logs) passes through here first.
export class Redactor {
  private readonly secrets = new Set<string>();

  add(...values: Array<string | undefined>): void {
    for (const v of values) if (v && v.length >= 1) this.secrets.add(v);
  }

  scrub(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is removed whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(s).join('********');
      const json = JSON.stringify(s).slice(1, -1);
      if (json !== s) out = out.split(json).join('********');
      const b64 = Buffer.from(s).toString('base64');
      out = out.split(b64).join('********');
    }
    return out;
  }
}

/** One redactor per process: a secret once seen is scrubbed from everything printed after. */
export const redactor = new Redactor();
