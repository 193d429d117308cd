// A line read from the terminal without echo, for secrets typed by hand: `berth user` passwords
// and cosign key passphrases. Callers check process.stdin.isTTY first (raw mode needs a terminal).

/**
 * Writes `question` to stderr (stdout may be piped into a file) and reads one line from the terminal
 * without echoing it; backspace deletes a character. Ctrl-C or Ctrl-D rejects with `cancelled()`,
 * so each caller throws its own error type (and so keeps its own exit code).
 */
export function promptHidden(question: string, cancelled: () => Error): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(cancelled());
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
