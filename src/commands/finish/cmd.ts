import { resumeCommand } from '../resume-command.js';

export const finishCommand = resumeCommand('finish', 'Complete a deferred (--no-wait) or interrupted rotate, change-user or reset (several RECs: only abandoned ones)', [
  ['$0 finish rec -n redis', 'resume from the journal and complete the rotation'],
  ['$0 finish -A', 'the janitor: complete every rotation whose run died; live ones and --no-wait ones are left alone'],
  ['$0 finish -l tier=prod --max-overlap 1h', 'also complete --no-wait rotations older than an hour, if every pod mounts the new password'],
]);
