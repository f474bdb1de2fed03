// Creation of the LanguageClient for the nearcode server, and the calls into it.

import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  CloseAction,
  type CloseHandlerResult,
  DidChangeConfigurationNotification,
  ErrorAction,
  type ErrorHandler,
  type ErrorHandlerResult,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { type ExecuteCommandCall, errorMessage } from './protocol';
import type { RestartBudget } from './restartBudget';
import type { ServerLaunch, ServerSettings } from './settings';
import type { ProgressValue } from './statusBar';

export const CLIENT_ID = 'nearcode';
export const CLIENT_NAME = 'Nearcode';

/** Errors on one connection tolerated before the client shuts the server down. */
const MAX_CONNECTION_ERRORS = 3;

export interface ClientHooks {
  /** Every work-done progress notification the server sends (indexing). */
  onProgress(token: string | number, value: ProgressValue): void;
  /** The server died and will be restarted; `attempt` counts restarts in the window. */
  onRestart(attempt: number): void;
  /** The server died once too often; the client will not restart it. */
  onGiveUp(crashes: number): void;
  /** An error the client logged (start failures included); kept for the notification. */
  onError(message: string): void;
}

export interface CreateClientOptions {
  launch: ServerLaunch;
  /** The settings to send, read afresh each time (user and machine values only). */
  settings: () => ServerSettings;
  output: vscode.OutputChannel;
  budget: RestartBudget;
  hooks: ClientHooks;
}

function serverOptions(launch: ServerLaunch): ServerOptions {
  // No `transport`: TransportKind.stdio would append `--stdio`, which `serve` rejects;
  // without it the client still talks over the process's stdin/stdout.
  const executable = {
    command: launch.command,
    args: launch.args,
    // Unbuffered so the server's stderr log reaches the output channel as it happens.
    // Not in the workspace folder (the client's default): `python -m` puts the current
    // folder first on sys.path, so a cloned repository's numpy.py would run in the server.
    options: { cwd: os.homedir(), env: { ...process.env, PYTHONUNBUFFERED: '1' } },
  } as const;
  return { run: executable, debug: executable };
}

/** Bounded restarts: a server that keeps dying is left stopped with one notification. */
function errorHandler(budget: RestartBudget, hooks: ClientHooks): ErrorHandler {
  return {
    error(_error, _message, count): ErrorHandlerResult {
      const tolerable = count !== undefined && count <= MAX_CONNECTION_ERRORS;
      return { action: tolerable ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
    },
    closed(): CloseHandlerResult {
      if (budget.recordCrash()) {
        hooks.onRestart(budget.recent);
        return { action: CloseAction.Restart, handled: true };
      }
      hooks.onGiveUp(budget.recent);
      return { action: CloseAction.DoNotRestart, handled: true };
    },
  };
}

/**
 * The stock client shows an error notification for every failed (re)start, which with
 * automatic restarts means one per attempt. Here those errors only go to the log; the
 * extension shows a single notification of its own (see ServerManager).
 */
class NearcodeLanguageClient extends LanguageClient {
  onLoggedError: ((message: string) => void) | undefined;

  override error(message: string, data?: unknown, _showNotification?: boolean | 'force'): void {
    // A clean exit (a deliberate stop or restart) is not an error.
    if (/exited with code 0\b/.test(message)) {
      this.info(message, data, false);
      return;
    }
    super.error(message, data, false);
    const detail = typeof data === 'string' ? data : data === undefined ? '' : errorMessage(data);
    this.onLoggedError?.(detail ? `${message} ${detail}` : message);
  }
}

export function createClient(options: CreateClientOptions): LanguageClient {
  const { hooks } = options;
  const clientOptions: LanguageClientOptions = {
    // Open file documents are synced: Find Similar and Search by Selection take the editor's
    // current text as the query, unsaved edits included (the index holds saved files).
    documentSelector: [{ scheme: 'file' }],
    initializationOptions: options.settings(),
    outputChannel: options.output,
    // Failures are reported by our own notifications; the log is one command away.
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    errorHandler: errorHandler(options.budget, hooks),
    middleware: {
      // The server's workspace/configuration pull gets the same filtered settings as
      // initializationOptions, not VS Code's merged view with the workspace's values.
      workspace: {
        // A folder added to the window is opened with its own folder settings: the server
        // has them before it hears of the folder.
        async didChangeWorkspaceFolders(event, next) {
          await client.sendNotification(DidChangeConfigurationNotification.type, {
            settings: { [CLIENT_ID]: options.settings() },
          });
          return next(event);
        },
        configuration(params, token, next) {
          const others = next(params, token);
          return Promise.resolve(others).then((values) =>
            Array.isArray(values)
              ? params.items.map((item, i) => (item.section === CLIENT_ID ? options.settings() : values[i]))
              : values,
          );
        },
      },
      // The client shows the progress in the window itself; this taps a copy for the
      // status bar without replacing the client's own handling.
      handleWorkDoneProgress(token, params, next) {
        hooks.onProgress(token, params);
        next(token, params);
      },
    },
  };
  const client = new NearcodeLanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions(options.launch), clientOptions);
  client.onLoggedError = hooks.onError;
  return client;
}

/** workspace/executeCommand for one server command; rejects with the server's error message. */
export function executeServerCommand(
  client: LanguageClient,
  call: ExecuteCommandCall,
  token?: vscode.CancellationToken,
): Promise<unknown> {
  return client.sendRequest(ExecuteCommandRequest.type, { command: call.command, arguments: call.arguments }, token);
}
