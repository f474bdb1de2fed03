// The one notification about why the server is not running. It is a notification that the
// extension can close (VS Code cannot close an error message it has shown), so it goes away
// by itself once the problem is fixed, and a new problem replaces the old one instead of
// stacking. Its fixes are command links in the message.

import * as vscode from 'vscode';

export interface ProblemAction {
  title: string;
  command: string;
  args?: unknown[];
}

export interface Problem {
  /** Same key, same problem: shown once. */
  key: string;
  message: string;
  actions: ProblemAction[];
}

/** `[Title](command:id?args)`: a link VS Code notifications run when clicked. */
export function commandLink(action: ProblemAction): string {
  const query = action.args ? `?${encodeURIComponent(JSON.stringify(action.args))}` : '';
  return `[${action.title}](command:${action.command}${query})`;
}

export class ProblemNotice implements vscode.Disposable {
  private shown: { key: string; close: () => void } | undefined;

  get current(): string | undefined {
    return this.shown?.key;
  }

  show(problem: Problem): void {
    if (this.shown?.key === problem.key) {
      return;
    }
    this.clear();
    let close: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      close = resolve;
    });
    this.shown = { key: problem.key, close };
    const links = problem.actions.map(commandLink).join('  ·  ');
    void vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Nearcode: ${problem.message} ${links}`.trim(),
        cancellable: true,
      },
      (_progress, token) => {
        token.onCancellationRequested(() => close());
        return closed;
      },
    );
    void closed.then(() => {
      if (this.shown?.key === problem.key) {
        this.shown = undefined;
      }
    });
  }

  clear(): void {
    const shown = this.shown;
    this.shown = undefined;
    shown?.close();
  }

  dispose(): void {
    this.clear();
  }
}
