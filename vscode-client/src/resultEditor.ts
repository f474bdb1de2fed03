// Opening a result in the editor: the cursor goes to the definition's name (the server's
// selectionRange, past doc comments and decorators), or to a preview line of it, with nothing selected, and the whole range is highlighted with a
// decoration until the cursor leaves it or the text changes. A selection would be
// replaced by the next keystroke.

import * as vscode from 'vscode';
import type { SearchResult } from './protocol';

export function toVscodeRange(range: SearchResult['range']): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

export interface OpenOptions {
  /** 0-based line to put the cursor on (a preview line); default: the definition's name. */
  line?: number;
  /** Open as a preview tab (replaced by the next preview), as VS Code's search does. */
  preview?: boolean;
  /** Keep the focus where it is (the Quick Pick previews results as they are highlighted). */
  preserveFocus?: boolean;
}

interface EditorState {
  uri: vscode.Uri;
  viewColumn: vscode.ViewColumn | undefined;
  selections: readonly vscode.Selection[];
  visibleRange: vscode.Range | undefined;
}

export class ResultOpener implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'),
    isWholeLine: true,
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.rangeHighlightForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Full,
  });
  private highlighted: { editor: vscode.TextEditor; range: vscode.Range } | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor() {
    this.disposables = [
      this.decoration,
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0 && e.document === this.highlighted?.editor.document) {
          this.clear();
        }
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        const h = this.highlighted;
        if (h && e.textEditor === h.editor && !h.range.contains(e.selections[0].active)) {
          this.clear();
        }
      }),
    ];
  }

  async open(result: SearchResult, options: OpenOptions = {}): Promise<vscode.TextEditor> {
    const range = toVscodeRange(result.range);
    const name = toVscodeRange(result.selectionRange).start;
    const cursor = options.line === undefined || options.line === name.line
      ? name
      : new vscode.Position(options.line, 0);
    const editor = await vscode.window.showTextDocument(vscode.Uri.parse(result.uri), {
      preview: options.preview ?? true,
      preserveFocus: options.preserveFocus ?? false,
      selection: new vscode.Range(cursor, cursor),
    });
    // Set again: showTextDocument keeps an existing selection when the file is already open.
    editor.selection = new vscode.Selection(cursor, cursor);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    editor.revealRange(new vscode.Range(cursor, cursor), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    this.clear();
    editor.setDecorations(this.decoration, [range]);
    this.highlighted = { editor, range };
    return editor;
  }

  clear(): void {
    this.highlighted?.editor.setDecorations(this.decoration, []);
    this.highlighted = undefined;
  }

  /** The active editor as it is now, to go back to when a previewing Quick Pick is cancelled. */
  snapshot(): EditorState | undefined {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      return undefined;
    }
    return {
      uri: editor.document.uri,
      viewColumn: editor.viewColumn,
      selections: editor.selections,
      visibleRange: editor.visibleRanges[0],
    };
  }

  async restore(state: EditorState | undefined): Promise<void> {
    this.clear();
    if (!state) {
      return;
    }
    const editor = await vscode.window.showTextDocument(state.uri, { viewColumn: state.viewColumn });
    editor.selections = [...state.selections];
    if (state.visibleRange) {
      editor.revealRange(state.visibleRange, vscode.TextEditorRevealType.AtTop);
    }
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
