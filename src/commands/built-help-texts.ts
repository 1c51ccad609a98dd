// The help texts rendered at bundle time (scripts/bundle/help-texts.ts). The bundle replaces this module
// with one that reads them, when a help is asked for, from the file beside the entry or the executable's
// asset (scripts/build-bundle.ts): the entry, compiled at every start, does not carry them. The development
// entry has none and asks yargs.

/** Help texts by width, then by command path: '' for the root, 'get', 'user rotate'. */
export type HelpTexts = Record<string, Record<string, string>>;

export const builtHelpTexts = (): HelpTexts | undefined => undefined;
