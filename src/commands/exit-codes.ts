// The CLI's exit codes, shown by `resnode --help` and listed in the README.
export const EXIT_OK = 0;
/** The command ran and found a problem: validate's mismatch, demo's disagreement, a failed build. */
export const EXIT_FAILED = 1;
/** The command could not run: bad arguments, an unreadable model, a missing dependency. */
export const EXIT_ERROR = 2;

export const EXIT_CODES_HELP = `
Exit codes:
  ${EXIT_OK}  success
  ${EXIT_FAILED}  the command ran and found a failure (validate: a mismatch; demo: ours and ONNX Runtime disagree; build-native: the build failed)
  ${EXIT_ERROR}  the command could not run (bad arguments, an unreadable model, a missing dependency)`;
