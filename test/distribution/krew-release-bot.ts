// Renders a .krew.yaml as krew-release-bot does (rajatjindal/krew-release-bot pkg/source/template.go
// RenderTemplate): Go text/template over the whole file with the release request as data (TagName is the
// tag, refs/tags/ stripped: pkg/cicd/github/actions.go GetTag) and exactly two functions, the bot's own
// `indent` (not sprig's) and `addURIAndSha`. Only the subset of text/template such a file uses is
// implemented: text, {{ }} actions with optional trim markers and comments, pipelines of function calls,
// `.Field`, string (interpreted and raw) and integer literals. Anything else throws, so a template that
// grows past the subset fails its test instead of rendering differently from the bot.

/**
 * pkg/source/source.go ReleaseRequest as pkg/source/actions/action_runner.go RunAction fills it before
 * rendering: the tag, owner and repo (GITHUB_REPOSITORY), actor (GITHUB_ACTOR) and template path.
 * PluginName is set only from the rendered result, so a template sees "". ProcessedTemplate (bytes, empty
 * then too) is left out: a template naming it fails here rather than render Go's "[]".
 */
export interface ReleaseRequest {
  TagName: string;
  PluginName: '';
  PluginOwner: string;
  PluginRepo: string;
  PluginReleaseActor: string;
  TemplateFile: string;
}

/** The data one render sees, and the Go type named when a field is missing. */
interface Data {
  fields: Readonly<Record<string, string>>;
  type: string;
}

type Value = string | number;

/** template.go indent: the legacy four-space "    sha256:" is first unindented, then every line padded, then TrimSpace. */
export function botIndent(spaces: number, v: string): string {
  const fixed = v.split('    sha256:').join('sha256:');
  const pad = ' '.repeat(spaces);
  return (pad + fixed.split('\n').join(`\n${pad}`)).trim();
}

/** template.go addURIAndSha: the URL is itself a template over {TagName}; the bot downloads it and hashes it, `sha256Of` stands in. */
function addURIAndSha(url: string, tag: string, sha256Of: (uri: string) => string): string {
  const uri = execute(url, { fields: { TagName: tag }, type: 'struct { TagName string }' }, sha256Of);
  return `uri: ${uri}\n    sha256: ${sha256Of(uri)}`;
}

function unsupported(what: string): never {
  throw new Error(`template uses ${what}, which this renderer (krew-release-bot's subset) does not implement`);
}

/** Splits an action's text into tokens: strings, raw strings, numbers, fields, identifiers, pipes. */
function tokens(action: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < action.length) {
    const c = action[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '"') {
      let j = i + 1;
      while (j < action.length && action[j] !== '"') j += action[j] === '\\' ? 2 : 1;
      if (j >= action.length) throw new Error('unterminated quoted string');
      out.push(action.slice(i, j + 1));
      i = j + 1;
    } else if (c === '`') {
      const j = action.indexOf('`', i + 1);
      if (j < 0) throw new Error('unterminated raw quoted string');
      out.push(action.slice(i, j + 1));
      i = j + 1;
    } else if (c === '|') {
      out.push('|');
      i++;
    } else {
      const m = /^[^\s|"`]+/.exec(action.slice(i))!;
      out.push(m[0]);
      i += m[0].length;
    }
  }
  return out;
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };

/** strconv.Unquote for the escapes a template is likely to hold; others are refused rather than guessed. */
function unquote(tok: string): string {
  return tok.slice(1, -1).replace(/\\(.)/g, (_, e: string) => ESCAPES[e] ?? unsupported(`the escape \\${e}`));
}

function operand(tok: string, data: Data): Value {
  if (tok.startsWith('"')) return unquote(tok);
  if (tok.startsWith('`')) return tok.slice(1, -1);
  if (/^-?\d+$/.test(tok)) return Number(tok);
  if (/^\.[A-Za-z_]\w*$/.test(tok)) {
    const v = data.fields[tok.slice(1)];
    if (v === undefined) throw new Error(`can't evaluate field ${tok.slice(1)} in type ${data.type}`);
    return v;
  }
  return unsupported(`the operand ${tok}`);
}

function evalAction(action: string, data: Data, sha256Of: (uri: string) => string): string {
  const toks = tokens(action);
  if (!toks.length) throw new Error('missing value for command');
  const bare = toks.filter((t) => !t.startsWith('"') && !t.startsWith('`'));
  if (/^(if|else|end|range|with|define|template|block|break|continue)$/.test(toks[0]!) || bare.some((t) => t.startsWith('$') || t.includes('('))) unsupported(`{{${action}}}`);
  const commands: string[][] = [[]];
  for (const t of toks) {
    if (t === '|') commands.push([]);
    else commands[commands.length - 1]!.push(t);
  }
  let piped: Value | undefined;
  for (const [name, ...args] of commands) {
    if (name === undefined) throw new Error('missing command in pipeline');
    const values = args.map((a) => operand(a, data));
    if (piped !== undefined) values.push(piped);
    if (name === 'indent') {
      const [spaces, v] = values;
      if (values.length !== 2 || typeof spaces !== 'number' || typeof v !== 'string') throw new Error('wrong number or type of args for indent: want (int, string)');
      piped = botIndent(spaces, v);
    } else if (name === 'addURIAndSha') {
      const [url, tag] = values;
      if (values.length !== 2 || typeof url !== 'string' || typeof tag !== 'string') throw new Error('wrong number or type of args for addURIAndSha: want (string, string)');
      piped = addURIAndSha(url, tag, sha256Of);
    } else if (/^[A-Za-z_]\w*$/.test(name)) throw new Error(`function ${JSON.stringify(name)} not defined`);
    else {
      if (args.length) unsupported(`arguments after the value ${name}`);
      piped = operand(name, data);
    }
  }
  return String(piped);
}

/** Executes `template` as text/template would with the bot's functions, over a release request (RenderTemplate). */
export function render(template: string, request: ReleaseRequest, sha256Of: (uri: string) => string): string {
  return execute(template, { fields: { ...request }, type: '*source.ReleaseRequest' }, sha256Of);
}

function execute(template: string, data: Data, sha256Of: (uri: string) => string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const open = template.indexOf('{{', at);
    if (open < 0) return out + template.slice(at);
    let text = template.slice(at, open);
    let start = open + 2;
    if (template.startsWith('- ', start) || template.startsWith('-\t', start) || template.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    out += text;
    // The action ends at the first }} outside a quoted string.
    let end = start;
    for (;;) {
      if (end >= template.length) throw new Error('unclosed action');
      const c = template[end];
      if (c === '"' || c === '`') {
        const close =
          c === '`'
            ? template.indexOf('`', end + 1)
            : (() => {
                let j = end + 1;
                while (j < template.length && template[j] !== '"') j += template[j] === '\\' ? 2 : 1;
                return j;
              })();
        if (close < 0 || close >= template.length) throw new Error('unterminated quoted string');
        end = close + 1;
      } else if (template.startsWith('}}', end)) break;
      else end++;
    }
    let action = template.slice(start, end);
    let trimAfter = false;
    if (/[ \t\n]-$/.test(action)) {
      action = action.slice(0, -1);
      trimAfter = true;
    }
    at = end + 2;
    if (trimAfter) at += /^\s*/.exec(template.slice(at))![0].length;
    if (/^\s*\/\*[\s\S]*\*\/\s*$/.test(action)) continue;
    out += evalAction(action, data, sha256Of);
  }
}
