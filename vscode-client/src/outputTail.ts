// The end of what the server wrote to stderr, kept so a crash can be reported with its
// reason ("ModuleNotFoundError: No module named 'onnxruntime'") rather than only "exit code 1".

/** The last line that says something: not blank, not a client log line ("[Info - …]"). */
export function lastMeaningfulLine(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  return lines.reverse().find((l) => l !== '' && !/^\[(Info|Warn|Error|Trace|nearcode)\b/.test(l)) ?? '';
}

export class TailBuffer {
  private text = '';

  constructor(private readonly maxChars = 8000) {}

  append(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.maxChars);
  }

  clear(): void {
    this.text = '';
  }

  get lastLine(): string {
    return lastMeaningfulLine(this.text);
  }
}

/** The output channel methods the language client uses; calls are copied into `tail`. */
export interface Channel {
  append(value: string): void;
  appendLine(value: string): void;
}

export function recordInto<T extends Channel>(channel: T, tail: TailBuffer): T {
  return new Proxy(channel, {
    get(target, property, receiver) {
      if (property === 'append' || property === 'appendLine') {
        return (value: string) => {
          tail.append(property === 'append' ? value : `${value}\n`);
          target[property](value);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
