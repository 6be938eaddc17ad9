/*
 * One line per event: what a tick did, or the one reason it did nothing. DevRev keeps a function's
 * stdout and stderr as its logs. Nothing here ever prints a token.
 */

export interface Log {
  info(message: string): void;
  error(message: string): void;
}

export function logFor(functionName: string): Log {
  return {
    info: (message) => console.log(`sift ${functionName}: ${message}`),
    error: (message) => console.error(`sift ${functionName}: error: ${message}`),
  };
}
