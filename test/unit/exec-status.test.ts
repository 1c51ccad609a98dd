// The exec status parser (issue 11, defect 7): only a Success, or a NonZeroExitCode with one plain
// ExitCode cause from 1 to 255, is an exit code; anything else is "unknown", never success.
import assert from 'node:assert/strict';
import { EXEC_PROTOCOLS, parseExecStatus } from '../../src/pod/exec-session.js';

const nonZero = (...messages: Array<string | undefined>) =>
  JSON.stringify({
    metadata: {},
    status: 'Failure',
    reason: 'NonZeroExitCode',
    message: 'command terminated with non-zero exit code',
    details: { causes: messages.map((message) => ({ reason: 'ExitCode', ...(message === undefined ? {} : { message }) })) },
  });

describe('exec status parser', () => {
  it('offers only the v5 and v4 protocols', () => {
    assert.deepEqual([...EXEC_PROTOCOLS], ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
  });

  it('Success is exit 0', () => {
    assert.deepEqual(parseExecStatus(JSON.stringify({ metadata: {}, status: 'Success' })), { kind: 'exit', exitCode: 0 });
  });

  for (const [cause, code] of [
    ['1', 1],
    ['7', 7],
    ['127', 127],
    ['255', 255],
  ] as const) {
    it(`NonZeroExitCode with cause "${cause}" is exit ${code}`, () => {
      assert.deepEqual(parseExecStatus(nonZero(cause)), { kind: 'exit', exitCode: code });
    });
  }

  const unknowns: Array<[string, string]> = [
    ['an empty ExitCode cause', nonZero('')],
    ['a cause with a space', nonZero(' 1')],
    ['a cause "0" (a non-zero exit that says zero)', nonZero('0')],
    ['a cause out of range', nonZero('256')],
    ['a negative cause', nonZero('-1')],
    ['a cause in exponent form', nonZero('1e2')],
    ['a fractional cause', nonZero('1.0')],
    ['a hexadecimal cause', nonZero('0x1')],
    ['a cause without a message', nonZero(undefined)],
    ['two ExitCode causes', nonZero('1', '2')],
    ['no ExitCode cause', nonZero()],
    ['a plain-text error', 'error: an error occurred while running the command'],
    ['an empty frame', ''],
    ['JSON null', 'null'],
    ['a JSON array', '[]'],
    ['a number', '0'],
    ['no status field', JSON.stringify({ metadata: {} })],
    ['an unknown status', JSON.stringify({ status: 'Pending' })],
    ['a cause message that is a number', JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: 1 }] } })],
  ];
  for (const [label, frame] of unknowns) {
    it(`${label}: unknown`, () => {
      assert.equal(parseExecStatus(frame).kind, 'unknown');
    });
  }

  it('a Failure that is not an exit code (the runtime could not start the command) is a failure', () => {
    const r = parseExecStatus(JSON.stringify({ status: 'Failure', reason: 'InternalError', message: 'error executing command in container: no such file' }));
    assert.equal(r.kind, 'failed');
  });
});
