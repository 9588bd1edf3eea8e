/** The `never` check at the end of every exhaustive switch. */
export const unreachable = (value: never): never => {
  throw new Error(`unhandled case ${JSON.stringify(value)}`);
};
