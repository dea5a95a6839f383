/**
 * What ipbp's terminal showed, in arrival order: the app's stdout and
 * stderr and ipbp's own `[ipbp]` lines. Observations read it from an
 * offset taken just before an edit, so only what the app printed after the
 * edit counts.
 */
export class OutputLog {
  private text = '';

  append(chunk: string): void {
    this.text += chunk;
  }

  get length(): number {
    return this.text.length;
  }

  /** The raw text from `offset` on, escape sequences included. */
  raw(offset = 0): string {
    return this.text.slice(offset);
  }

  /**
   * The text from `offset` on as a reader would see it: terminal escape
   * sequences removed (a TUI moves the cursor between the characters it
   * redraws, so a word it draws is only contiguous once they are gone) and
   * ipbp's own lines dropped (they name paths and functions, which must not
   * satisfy an observation of the app).
   */
  since(offset = 0): string {
    return stripTerminalControls(this.text.slice(offset)).replace(/\[ipbp\][^\n]*\n?/g, '');
  }

  /** The last `count` characters, readable, for a failure's message. */
  tail(count = 600): string {
    return this.since(Math.max(0, this.text.length - count * 4)).slice(-count);
  }
}

/** CSI and OSC sequences, two-character escapes and carriage returns. */
export function stripTerminalControls(text: string): string {
  return text
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '')
    .replace(/\x1b\[[0-9;?<>=]*[ -/]*[@-~]/g, '')
    .replace(/\x1b[()][0-9A-Za-z]/g, '')
    .replace(/\x1b[=>78DEHMNOZc]/g, '')
    .replace(/\r/g, '');
}
