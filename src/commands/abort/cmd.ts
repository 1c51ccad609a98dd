import { resumeCommand } from '../resume-command.js';

export const abortCommand = resumeCommand('abort', 'Roll an unfinished rotate or change-user back to the previous credentials (several RECs: only abandoned ones)', [
  ['$0 abort rec -n redis', 'restore the old password everywhere and remove the new one'],
  ['$0 abort -A', 'the janitor: roll back every rotation whose run died; live ones are left alone'],
]);
